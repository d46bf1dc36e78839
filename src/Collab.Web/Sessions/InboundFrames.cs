using System.Buffers;
using System.Threading.Channels;
using Collab.Web.Protocol;

namespace Collab.Web.Sessions;

/// <summary>
/// Frames a WebSocket session has read but not yet handled, and the one task that handles them, in order (while it is
/// idle the receive loop handles a frame itself and hands it over only if it has to wait). The receive
/// loop goes on reading while an earlier frame waits on a grain (a join on a frozen silo, a submit during a store
/// outage), so a live <c>ping</c> behind it is answered at once and the client does not mistake a slow document for a
/// dead front end. What the session holds is bounded in bytes: the receive loop waits for room before it queues a frame
/// or grows a buffer past <see cref="BudgetBytes"/>, so a session never holds more than one frame of
/// <c>MaxMessageBytes</c> plus <see cref="BudgetBytes"/>, however fast its client sends.
/// </summary>
internal sealed partial class InboundFrames
{
    /// <summary>Bytes of read-but-unhandled frames a session may hold beyond a single frame.</summary>
    public const int BudgetBytes = 64 * 1024;

    // A frame to handle, or (Started set) one the receive loop began handling itself and left pending.
    private readonly Channel<(byte[] Buffer, int Length, Task? Started)> queue =
        Channel.CreateUnbounded<(byte[], int, Task?)>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly Session session;
    private readonly Func<ReadOnlyMemory<byte>, Task> handle;
    private readonly ILogger logger;
    private readonly Lock gate = new();
    private readonly Task handling;
    // Pooled-array bytes queued or being handled; and whoever waits for room.
    private long held;
    private TaskCompletionSource? room;
    private long wantedRoom;

    public InboundFrames(Session session, Func<ReadOnlyMemory<byte>, Task> handle, ILogger logger)
    {
        this.session = session;
        this.handle = handle;
        this.logger = logger;
        handling = Task.Run(HandleLoopAsync);
    }

    /// <summary>Bytes of pooled buffers the handler owns right now (queued frames and the one in progress).</summary>
    public long HeldBytes
    {
        get
        {
            lock (gate) return held;
        }
    }

    /// <summary>
    /// Nothing is queued or in progress: the receive loop may handle the next frame itself, and hand it over with
    /// <see cref="EnqueueStarted"/> only if it does not complete at once (most frames do not wait on anything, and the
    /// hop to the handler task would cost them more than their handling).
    /// </summary>
    public bool IsIdle
    {
        get
        {
            lock (gate) return held == 0;
        }
    }

    /// <summary>
    /// Completes when the session may take <paramref name="bytes"/> more: nothing is held, or what is held plus them fits
    /// the budget. The receive loop is the only caller, one wait at a time.
    /// </summary>
    public Task WhenRoomAsync(long bytes, CancellationToken cancellationToken)
    {
        lock (gate)
        {
            if (held == 0 || held + bytes <= BudgetBytes) return Task.CompletedTask;
            wantedRoom = bytes;
            room = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return room.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Queues a frame read into a pooled <paramref name="buffer"/>; the handler returns it to the pool.</summary>
    public void Enqueue(byte[] buffer, int length)
    {
        lock (gate) held += buffer.Length;
        if (!queue.Writer.TryWrite((buffer, length, null))) Release(buffer);
    }

    /// <summary>Handles a frame on the caller (only while <see cref="IsIdle"/>: nothing may run beside it).</summary>
    public Task Handle(ReadOnlyMemory<byte> frame) => handle(frame);

    /// <summary>Hands over a frame whose handling the receive loop began while idle and that is still pending: frames read later wait for it.</summary>
    public void EnqueueStarted(byte[] buffer, Task handling)
    {
        lock (gate) held += buffer.Length;
        if (!queue.Writer.TryWrite((buffer, 0, handling))) _ = handling.ContinueWith(_ => Release(buffer), TaskScheduler.Default);
    }

    /// <summary>No more frames will come; completes when the handler has finished (queued frames of a closing session are dropped).</summary>
    public Task CompleteAsync()
    {
        queue.Writer.TryComplete();
        return handling;
    }

    private async Task HandleLoopAsync()
    {
        await foreach (var (buffer, length, started) in queue.Reader.ReadAllAsync())
        {
            try
            {
                // After a close (fatal error, shutdown, stalled reader) the session reads no more; nor does it handle what it had read.
                if (started is not null) await started;
                else if (session.CloseRequest is null) await handle(buffer.AsMemory(0, length));
            }
            catch (Exception e)
            {
                LogFailed(logger, session.Id, e);
                session.Enqueue(Frames.Error(ErrorCodes.Internal, "the server failed; reconnect and resume with join+rev", fatal: true));
                session.Close(CloseCodes.InternalError, "internal error");
            }
            finally
            {
                Release(buffer);
            }
        }
    }

    private void Release(byte[] buffer)
    {
        TaskCompletionSource? wake = null;
        lock (gate)
        {
            held -= buffer.Length;
            if (room is not null && (held == 0 || held + wantedRoom <= BudgetBytes))
            {
                wake = room;
                room = null;
            }
        }
        ArrayPool<byte>.Shared.Return(buffer);
        wake?.TrySetResult();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} failed")]
    private static partial void LogFailed(ILogger logger, string sessionId, Exception error);
}
