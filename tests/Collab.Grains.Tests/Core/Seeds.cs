namespace Collab.Grains.Tests.Core;

/// <summary>
/// Seeds for the randomized schedule tests: a fixed range, or only <c>COLLAB_SEED</c> when set, so a failing seed
/// (named in the failure message) replays exactly: <c>COLLAB_SEED=1234 dotnet test tests/Collab.Grains.Tests</c>.
/// </summary>
public static class Seeds
{
    public static IEnumerable<object[]> Range(int count)
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("COLLAB_SEED"), out var only))
        {
            yield return [only];
            yield break;
        }
        for (var seed = 1; seed <= count; seed++) yield return [seed];
    }
}
