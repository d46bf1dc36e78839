using System.Diagnostics;

namespace Collab.Grains.Core;

/// <summary>
/// A token bucket: <c>rate</c> tokens per second, holding at most <c>burst</c>. Not thread-safe: one per grain
/// activation (per-document limits) or per session receive loop (per-session limits). The clock is the caller's:
/// <see cref="TryTake(TimeSpan, out int)"/> takes the time since any fixed origin, so tests drive it by hand.
/// </summary>
public sealed class TokenBucket
{
    private static readonly long Origin = Stopwatch.GetTimestamp();

    private readonly double rate;
    private readonly double burst;
    private double tokens;
    private TimeSpan? last;

    public TokenBucket(double rate, double burst)
    {
        this.rate = rate;
        this.burst = tokens = burst;
    }

    /// <summary>The process's monotonic clock, as <see cref="TryTake(TimeSpan, out int)"/> expects it.</summary>
    public static TimeSpan Now => Stopwatch.GetElapsedTime(Origin);

    /// <summary>Takes one token now (the monotonic clock), or says how many milliseconds until one is available.</summary>
    public bool TryTake(out int retryAfterMs) => TryTake(Now, out retryAfterMs);

    /// <summary>Takes one token at <paramref name="now"/>, or says how many milliseconds until one is available.</summary>
    public bool TryTake(TimeSpan now, out int retryAfterMs) => TryTake(1, now, out retryAfterMs);

    /// <summary>
    /// Takes <paramref name="cost"/> tokens at <paramref name="now"/> (a cost above the burst is capped at the burst, so
    /// it can pass once the bucket is full), or says how many milliseconds until they are available.
    /// </summary>
    public bool TryTake(double cost, TimeSpan now, out int retryAfterMs)
    {
        cost = Math.Min(cost, burst);
        if (last is { } previous && now > previous) tokens = Math.Min(burst, tokens + (now - previous).TotalSeconds * rate);
        if (last is null || now > last) last = now;
        if (tokens >= cost)
        {
            tokens -= cost;
            retryAfterMs = 0;
            return true;
        }
        retryAfterMs = Math.Max(1, (int)Math.Ceiling((cost - tokens) / rate * 1000));
        return false;
    }
}
