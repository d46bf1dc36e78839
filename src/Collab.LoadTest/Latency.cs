namespace Collab.LoadTest;

/// <summary>Percentiles of a set of samples (nearest rank), in milliseconds.</summary>
internal sealed record LatencyStats(int Count, double Mean, double P50, double P95, double P99, double Max)
{
    public static LatencyStats? Of(IReadOnlyCollection<double> samples)
    {
        if (samples.Count == 0) return null;
        var sorted = samples.Order().ToArray();
        return new LatencyStats(sorted.Length, sorted.Average(), Rank(sorted, 0.50), Rank(sorted, 0.95), Rank(sorted, 0.99), sorted[^1]);
    }

    public static double Median(IReadOnlyCollection<double> samples) => Rank([.. samples.Order()], 0.5);

    private static double Rank(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

/// <summary>
/// Broadcast latency: for each op sent in the measured window, the time from its sender handing the op frame to the
/// socket until the last of the document's other clients has received the server's <c>op</c> frame for that revision.
/// </summary>
internal static class Latency
{
    /// <summary>Latencies in ms of every op of <paramref name="clients"/> (all on one document) sent in [from, to); also counts ops some peer never got.</summary>
    public static (List<double> Samples, int Missing) Broadcast(IReadOnlyList<LoadClient> clients, long from, long to)
    {
        var samples = new List<double>();
        var missing = 0;
        var received = clients.Select(c => c.Received.ToDictionary(r => r.Rev, r => r.ReceivedAt)).ToArray();
        for (var i = 0; i < clients.Count; i++)
        {
            foreach (var (rev, sentAt) in clients[i].Sent)
            {
                if (sentAt < from || sentAt >= to) continue;
                long last = 0;
                var complete = true;
                for (var j = 0; j < clients.Count && complete; j++)
                {
                    if (j == i) continue;
                    if (received[j].TryGetValue(rev, out var at)) last = Math.Max(last, at);
                    else complete = false;
                }
                if (!complete) missing++;
                else if (clients.Count > 1) samples.Add(System.Diagnostics.Stopwatch.GetElapsedTime(sentAt, last).TotalMilliseconds);
            }
        }
        return (samples, missing);
    }
}
