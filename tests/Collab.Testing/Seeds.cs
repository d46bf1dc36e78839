namespace Collab.Testing;

/// <summary>
/// Seeds for the randomized tests: a fixed range, or only <c>COLLAB_SEED</c> when set, so a failing seed (named in the
/// failure message) replays exactly: <c>COLLAB_SEED=1234 dotnet test tests/Collab.Grains.Tests</c>. The browser suites
/// read the same variable.
/// </summary>
public static class Seeds
{
    /// <summary>The seed to replay, when <c>COLLAB_SEED</c> is set.</summary>
    public static int? Replay => int.TryParse(Environment.GetEnvironmentVariable("COLLAB_SEED"), out var seed) ? seed : null;

    public static IEnumerable<object[]> Range(int count)
    {
        if (Replay is { } only)
        {
            yield return [only];
            yield break;
        }
        for (var seed = 1; seed <= count; seed++) yield return [seed];
    }
}
