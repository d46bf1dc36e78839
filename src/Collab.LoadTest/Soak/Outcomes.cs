using System.Collections.Concurrent;

namespace Collab.LoadTest;

/// <summary>
/// What the hostile clients of a soak met, counted by kind (<c>error rate_limited</c>, <c>close 4400</c>, <c>ack</c>…).
/// Refusals are the server doing its job, not failures; the counts show the hostile load kept running.
/// </summary>
internal sealed class Outcomes
{
    private readonly ConcurrentDictionary<string, long> counts = new(StringComparer.Ordinal);

    public void Count(string kind) => counts.AddOrUpdate(kind, 1, static (_, n) => n + 1);

    public long this[string kind] => counts.GetValueOrDefault(kind);

    /// <summary>The refusals so far: error frames, closes, and HTTP refusals (not acks, opens or the hostile client's own faults).</summary>
    public long Refusals => counts.Where(c => IsRefusal(c.Key)).Sum(c => c.Value);

    public SortedDictionary<string, long> Snapshot() => new(counts, StringComparer.Ordinal);

    public static bool IsRefusal(string kind) =>
        kind.StartsWith("error ", StringComparison.Ordinal) || kind.StartsWith("close ", StringComparison.Ordinal) || kind.StartsWith("http ", StringComparison.Ordinal);
}
