using System.Buffers;
using System.Net.WebSockets;
using System.Threading.Channels;
using Collab.Contracts;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;

namespace Collab.Web.Sessions;

/// <summary>
/// One client socket: a receive loop that handles frames in order, and a send loop that is the socket's only writer,
/// fed by a bounded queue. A session that stops reading overflows its queue and is closed (4409) rather than making the
/// server buffer without bound; the client resumes with join+rev.
/// </summary>
internal sealed partial class Session
{
    private readonly WebSocket socket;
    private readonly FrontEndOptions options;
    private readonly ILogger logger;
    private readonly Channel<byte[]> outbox;
    private readonly CancellationTokenSource aborted = new();
    private (int Code, string Reason)? closeRequest;

    public Session(WebSocket socket, FrontEndOptions options, ILogger logger)
    {
        this.socket = socket;
        this.options = options;
        this.logger = logger;
        outbox = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(options.SendQueueFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    public string Id { get; } = Guid.NewGuid().ToString("N");

    /// <summary>Set by <c>hello</c>.</summary>
    public string? ClientId { get; set; }

    public UserInfo? User { get; set; }

    /// <summary>The documents this session joined, by id. Touched only by the receive loop.</summary>
    public Dictionary<string, SessionDocument> Documents { get; } = new(StringComparer.Ordinal);

    /// <summary>Queues a frame; returns false (and closes the session) when the client is not keeping up.</summary>
    public bool Enqueue(byte[] frame)
    {
        if (outbox.Writer.TryWrite(frame)) return true;
        if (closeRequest is null)
        {
            LogOverflow(logger, Id, options.SendQueueFrames);
            Close(CloseCodes.SendQueueOverflow, "send queue overflow: reconnect and resume with join+rev");
            // A stalled reader may never take the close frame either: give it a moment, then abort.
            aborted.CancelAfter(options.CloseTimeoutMs);
        }
        return false;
    }

    /// <summary>Closes the session after the frames already queued (or at once, for an overflow).</summary>
    public void Close(int code, string reason)
    {
        closeRequest ??= (code, reason);
        outbox.Writer.TryComplete();
    }

    /// <summary>Runs the session until the socket closes; <paramref name="handle"/> processes each text frame.</summary>
    /// <remarks>
    /// Shutdown does not cancel the pending receive (that would abort the socket): it queues a 1001 close, and the
    /// receive loop ends when the client answers it, or when the close timeout aborts the socket.
    /// </remarks>
    public async Task RunAsync(Func<ReadOnlyMemory<byte>, Task> handle, CancellationToken stopping)
    {
        using var onStopping = stopping.Register(() => Close(CloseCodes.GoingAway, "server shutting down; reconnect and resume with join+rev"));
        var sending = SendLoopAsync();
        try
        {
            await ReceiveLoopAsync(handle, aborted.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The peer vanished or was aborted; nothing more to say to it.
        }
        catch (Exception e)
        {
            LogFailed(logger, Id, e);
            Enqueue(Frames.Error(ErrorCodes.Internal, "the server failed; reconnect and resume with join+rev", fatal: true));
            Close(CloseCodes.InternalError, "internal error");
        }
        finally
        {
            outbox.Writer.TryComplete();
        }
        await sending;
    }

    private async Task ReceiveLoopAsync(Func<ReadOnlyMemory<byte>, Task> handle, CancellationToken cancellationToken)
    {
        var max = options.MaxMessageBytes;
        while (socket.State == WebSocketState.Open && closeRequest is null)
        {
            // Zero-byte read: an idle session holds no receive buffer.
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            if (peek.MessageType == WebSocketMessageType.Close) break;

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, max + 1));
            try
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, max + 1));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += result.Count;
                    if (length > max)
                    {
                        Enqueue(Frames.Error(ErrorCodes.TooLarge, $"frames are limited to {max} bytes", fatal: true));
                        Close(CloseCodes.MessageTooBig, $"frame larger than {max} bytes");
                        return;
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close) break;
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    Enqueue(Frames.Error(ErrorCodes.BadJson, "collab.v1 frames are JSON text frames; binary frames are not accepted", fatal: true));
                    Close(CloseCodes.ProtocolError, "binary frames are not part of collab.v1");
                    return;
                }
                await handle(buffer.AsMemory(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var frame in outbox.Reader.ReadAllAsync())
            {
                if (closeRequest is { Code: CloseCodes.SendQueueOverflow }) break;
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, aborted.Token);
            }
            await CloseSocketAsync();
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            aborted.Cancel();
        }
    }

    private async Task CloseSocketAsync()
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        var (code, reason) = closeRequest ?? (1000, "bye");
        using var timeout = new CancellationTokenSource(options.CloseTimeoutMs);
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)code, reason, timeout.Token);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            socket.Abort();
        }
        // Wake a receive loop still waiting on a client that never answers the close.
        aborted.CancelAfter(options.CloseTimeoutMs);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} failed")]
    private static partial void LogFailed(ILogger logger, string sessionId, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} stopped reading: its send queue of {Frames} frames overflowed; closing with 4409")]
    private static partial void LogOverflow(ILogger logger, string sessionId, int frames);
}
