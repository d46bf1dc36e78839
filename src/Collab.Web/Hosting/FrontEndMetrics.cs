using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Collab.Web.Hosting;

/// <summary>The front end's meter (<c>Collab.FrontEnd</c>): sessions, frames and bytes, closes, errors, fan-out.</summary>
internal static class FrontEndMetrics
{
    public const string MeterName = "Collab.FrontEnd";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<object, Func<int>> LiveSessions = new();

    /// <summary>Live sessions (WebSocket and SSE) on this host.</summary>
    public static readonly ObservableUpDownCounter<int> Sessions = Meter.CreateObservableUpDownCounter(
        "collab.sessions", () => LiveSessions.Values.Sum(count => count()), "{session}", "Live sessions (WebSocket and SSE) on this host.");

    public static readonly Counter<long> FramesSent = Meter.CreateCounter<long>("collab.frames.sent", "{frame}", "Frames written to clients.");

    public static readonly Counter<long> BytesSent = Meter.CreateCounter<long>("collab.frames.sent.size", "By", "Bytes of frames written to clients.");

    public static readonly Counter<long> FramesReceived = Meter.CreateCounter<long>("collab.frames.received", "{frame}", "Frames received from clients.");

    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("collab.frames.received.size", "By", "Bytes of frames received from clients.");

    /// <summary>Sessions the server closed, by <c>collab.close.code</c> (4409: a client that stopped reading, …).</summary>
    public static readonly Counter<long> Closes = Meter.CreateCounter<long>("collab.sessions.closed", "{session}", "Sessions closed by the server, by close code.");

    /// <summary>Error frames sent, by <c>collab.error.code</c> (rate_limited, too_large, internal, …).</summary>
    public static readonly Counter<long> Errors = Meter.CreateCounter<long>("collab.errors", "{error}", "Error frames sent to clients, by code.");

    /// <summary>From a commit notification reaching this host to its frame queued for every session of the document.</summary>
    public static readonly Histogram<double> FanoutDuration = Meter.CreateHistogram(
        "collab.fanout.duration", "s", "From a commit notification reaching the host to its frame queued for every session of the document.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1] });

    /// <summary>Counts <paramref name="owner"/>'s live sessions in <see cref="Sessions"/> (several hosts may share a test process).</summary>
    public static void TrackSessions(object owner, Func<int> count) => LiveSessions[owner] = count;
}
