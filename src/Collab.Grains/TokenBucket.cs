using System.Diagnostics;

namespace Collab.Grains;

/// <summary>
/// A token bucket: <c>rate</c> tokens per second, holding at most <c>burst</c>. Not thread-safe: one per grain
/// activation (per-document limits) or per session receive loop (per-session limits).
/// </summary>
public sealed class TokenBucket
{
    private readonly double rate;
    private readonly double burst;
    private double tokens;
    private long last = Stopwatch.GetTimestamp();

    public TokenBucket(double rate, double burst)
    {
        this.rate = rate;
        this.burst = tokens = burst;
    }

    /// <summary>Takes one token, or says how many milliseconds until one is available.</summary>
    public bool TryTake(out int retryAfterMs)
    {
        var now = Stopwatch.GetTimestamp();
        tokens = Math.Min(burst, tokens + Stopwatch.GetElapsedTime(last, now).TotalSeconds * rate);
        last = now;
        if (tokens >= 1)
        {
            tokens -= 1;
            retryAfterMs = 0;
            return true;
        }
        retryAfterMs = (int)Math.Ceiling((1 - tokens) / rate * 1000);
        return false;
    }
}
