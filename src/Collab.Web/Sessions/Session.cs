using System.Threading.Channels;
using Collab.Contracts;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;

namespace Collab.Web.Sessions;

/// <summary>
/// One client's conversation, whatever carries it (a WebSocket, or the SSE + POST fallback): who it is, the documents it
/// joined, and a bounded queue of frames for the transport's single writer. A session that stops reading overflows its
/// queue and is closed (4409) rather than making the server buffer without bound; the client resumes with join+rev.
/// </summary>
internal sealed partial class Session
{
    private readonly FrontEndOptions options;
    private readonly ILogger logger;
    // byte[] frames, and TextParts (cut into frames as the writer reaches them).
    private readonly Channel<object> outbox;
    private readonly OutboxReader reader;
    private readonly CancellationTokenSource aborted = new();
    // Written by the receive loop, the feed loops and the shutdown callback: the first close wins, atomically.
    private CloseReason? closeRequest;
    private long queuedBytes;

    public Session(FrontEndOptions options, ILogger logger)
    {
        this.options = options;
        this.logger = logger;
        outbox = Channel.CreateBounded<object>(new BoundedChannelOptions(options.SendQueueFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        reader = new OutboxReader(this);
        // Sockets that never say hello would otherwise be held for as long as they keep the connection open.
        helloDeadline = new Timer(_ =>
        {
            if (ClientId is null) Close(CloseCodes.HelloTimeout, $"no hello within {options.HelloTimeoutMs} ms");
        }, null, options.HelloTimeoutMs, Timeout.Infinite);
    }

    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Set by <c>hello</c>. A secret of the client's tab: it never goes into a frame for another session.</summary>
    public string? ClientId { get; set; }

    public UserInfo? User { get; set; }

    /// <summary>Set by <c>hello</c> when the client sends one: the page behind the session (see <see cref="Collab.Contracts.ClientClaim"/>).</summary>
    public string? Instance { get; set; }

    /// <summary>Tokens mode: who the session's token says it is (replaced by a refresh with the same subject).</summary>
    public Access.TokenIdentity? Identity { get; set; }

    /// <summary>
    /// What the document grains key this session's ops by (dedupe, "your own op"): the client's id, qualified by the
    /// authenticated user in Tokens mode so no one can act under another user's key.
    /// </summary>
    public string? ClientKey => Identity is { } identity ? $"{ClientId}@{identity.Subject}" : ClientId;

    /// <summary>Closes the session with 4401 at <paramref name="at"/> unless called again first (a refreshed token).</summary>
    public void ExpireAt(DateTimeOffset at)
    {
        var due = at - DateTimeOffset.UtcNow;
        var old = Interlocked.Exchange(ref expiry, null);
        old?.Dispose();
        if (due <= TimeSpan.Zero)
        {
            Close(CloseCodes.Expired, "your token expired; get a new one and reconnect");
            return;
        }
        var timer = new Timer(_ => Close(CloseCodes.Expired, "your token expired; get a new one and reconnect"), null,
            due > MaxTimerDue ? MaxTimerDue : due, Timeout.InfiniteTimeSpan);
        if (Interlocked.CompareExchange(ref expiry, timer, null) is not null || CloseRequest is not null) timer.Dispose();
    }

    private static readonly TimeSpan MaxTimerDue = TimeSpan.FromDays(30);
    private readonly Timer helloDeadline;
    private Timer? expiry;

    /// <summary>The credentials presented (in <c>hello</c> and <c>auth</c>), newest last; touched only by the receive loop.</summary>
    public List<string> Credentials { get; } = [];

    /// <summary>The documents this session joined, by id. Touched only by the receive loop.</summary>
    public Dictionary<string, SessionDocument> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>The largest frame the client accepts (announced as <c>maxMessageBytes</c>): nothing queued is larger.</summary>
    public int MaxFrameBytes => options.MaxMessageBytes;

    /// <summary>Queues a frame; returns false (and closes the session) when the client is not keeping up.</summary>
    public bool Enqueue(byte[] frame)
    {
        // Bounded twice: in frames (the channel) and in bytes (large ops), whichever fills first. No frame is larger
        // than MaxFrameBytes (texts beyond it go as TextParts), so one always fits an empty queue.
        var queued = Interlocked.Add(ref queuedBytes, frame.Length);
        if ((queued <= options.SendQueueBytes || queued == frame.Length) && outbox.Writer.TryWrite(frame)) return true;
        Interlocked.Add(ref queuedBytes, -frame.Length);
        return Overflowed();
    }

    /// <summary>
    /// Queues a full text to go out in parts: one queue slot; its frames are built (and count against the byte bound)
    /// only as the writer takes them, so a reader that stalls holds one part, not the text.
    /// </summary>
    public bool Enqueue(TextParts parts) => outbox.Writer.TryWrite(parts) || Overflowed();

    private bool Overflowed()
    {
        if (Close(CloseCodes.SendQueueOverflow, "send queue overflow: reconnect and resume with join+rev"))
        {
            LogOverflow(logger, Id, options.SendQueueFrames, options.SendQueueBytes);
            // A stalled reader may never take the close frame either: give it a moment, then abort.
            aborted.CancelAfter(options.CloseTimeoutMs);
        }
        return false;
    }

    /// <summary>
    /// Closes the session after the frames already queued (or at once, for an overflow). Safe from any thread: the
    /// first call decides the code and reason; returns whether this call was that one.
    /// </summary>
    public bool Close(int code, string reason)
    {
        var won = Interlocked.CompareExchange(ref closeRequest, new CloseReason(code, reason), null) is null;
        if (won) FrontEndMetrics.Closes.Add(1, new KeyValuePair<string, object?>("collab.close.code", code));
        outbox.Writer.TryComplete();
        Interlocked.Exchange(ref expiry, null)?.Dispose();
        helloDeadline.Dispose();
        return won;
    }

    /// <summary>Why the session is closing, once it is.</summary>
    public (int Code, string Reason)? CloseRequest => Volatile.Read(ref closeRequest) is { } c ? (c.Code, c.Reason) : null;

    private sealed record CloseReason(int Code, string Reason);

    /// <summary>The frames to send, in order; completes when the session closes. Call <see cref="Sent"/> for each frame taken.</summary>
    public ChannelReader<byte[]> Outbox => reader;

    /// <summary>A frame left the queue (written to the transport): its bytes no longer count against the bound.</summary>
    public void Sent(byte[] frame)
    {
        Interlocked.Add(ref queuedBytes, -frame.Length);
        FrontEndMetrics.FramesSent.Add(1);
        FrontEndMetrics.BytesSent.Add(frame.Length);
    }

    /// <summary>Cancelled when the transport must give up on the client at once.</summary>
    public CancellationToken Aborted => aborted.Token;

    public void Abort() => aborted.Cancel();

    /// <summary>Aborts after the close timeout, for a client that does not answer a close.</summary>
    public void AbortAfterCloseTimeout() => aborted.CancelAfter(options.CloseTimeoutMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} stopped reading: its send queue ({Frames} frames, {Bytes} bytes) overflowed; closing with 4409")]
    private static partial void LogOverflow(ILogger logger, string sessionId, int frames, int bytes);

    /// <summary>The outbox as the transports read it: frames, with queued texts expanded part by part.</summary>
    private sealed class OutboxReader(Session session) : ChannelReader<byte[]>
    {
        // Only the transport's single writer loop reads, so this needs no lock.
        private TextParts? current;

        public override Task Completion => session.outbox.Reader.Completion;

        public override bool TryRead(out byte[] item)
        {
            while (true)
            {
                if (current is not null)
                {
                    if (current.TryNext(out item))
                    {
                        // Counted from now until Sent, like any queued frame.
                        Interlocked.Add(ref session.queuedBytes, item.Length);
                        return true;
                    }
                    current = null;
                }
                if (!session.outbox.Reader.TryRead(out var next))
                {
                    item = [];
                    return false;
                }
                if (next is byte[] frame)
                {
                    item = frame;
                    return true;
                }
                current = (TextParts)next;
            }
        }

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            current is not null ? ValueTask.FromResult(true) : session.outbox.Reader.WaitToReadAsync(cancellationToken);
    }
}
