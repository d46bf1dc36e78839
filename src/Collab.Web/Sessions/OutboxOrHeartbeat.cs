using System.Threading.Channels;

namespace Collab.Web.Sessions;

/// <summary>
/// What an SSE stream's writer waits for: frames queued in the session's outbox, or the next heartbeat. One pending
/// read-wait and one periodic timer serve the whole stream, so a heartbeat while the outbox is idle leaves nothing
/// behind (no second waiter on the channel, no timer still running).
/// </summary>
internal sealed class OutboxOrHeartbeat : IDisposable
{
    private readonly ChannelReader<byte[]> outbox;
    private readonly PeriodicTimer heartbeat;
    private Task<bool>? ready;
    private Task<bool>? tick;

    public OutboxOrHeartbeat(ChannelReader<byte[]> outbox, TimeSpan period, TimeProvider time)
    {
        this.outbox = outbox;
        heartbeat = new PeriodicTimer(period, time);
    }

    public enum Next
    {
        /// <summary>Frames can be read from the outbox.</summary>
        Frames,

        /// <summary>A heartbeat period passed (whether or not frames flowed meanwhile).</summary>
        Heartbeat,

        /// <summary>The outbox was completed: the session is closing.</summary>
        Completed,
    }

    /// <summary>Waits for the next event; the token is the stream's (the same on every call). Cancellation throws.</summary>
    public async Task<Next> NextAsync(CancellationToken cancellationToken)
    {
        ready ??= outbox.WaitToReadAsync(cancellationToken).AsTask();
        tick ??= heartbeat.WaitForNextTickAsync(cancellationToken).AsTask();
        if (await Task.WhenAny(ready, tick).ConfigureAwait(false) == tick)
        {
            var ticked = tick;
            tick = null;
            return await ticked.ConfigureAwait(false) ? Next.Heartbeat : Next.Completed;
        }

        var more = await ready.ConfigureAwait(false);
        ready = null;
        return more ? Next.Frames : Next.Completed;
    }

    public void Dispose() => heartbeat.Dispose();
}
