using System.Buffers;
using System.Net.WebSockets;
using Collab.Web.Hosting;
using Collab.Web.Protocol;

namespace Collab.Web.Sessions;

/// <summary>
/// Carries a session over a WebSocket: a receive loop that handles frames in order (zero-byte reads first, so an idle
/// socket holds no buffer) and a send loop that is the socket's only writer.
/// </summary>
internal static partial class WebSocketTransport
{
    /// <summary>
    /// Runs the session until the socket closes; <paramref name="handle"/> processes each text frame, in order, on the
    /// session's <see cref="InboundFrames"/> task, while <paramref name="answerAtOnce"/> may answer a frame as soon as it is
    /// read (a live ping) instead.
    /// </summary>
    /// <remarks>
    /// Shutdown does not cancel the pending receive (that would abort the socket): it queues a 1001 close, and the
    /// receive loop ends when the client answers it, or when the close timeout aborts the socket.
    /// </remarks>
    public static async Task RunAsync(Session session, WebSocket socket, FrontEndOptions options, ILogger logger,
        Func<ReadOnlyMemory<byte>, Task> handle, Func<ReadOnlyMemory<byte>, bool> answerAtOnce, CancellationToken stopping)
    {
        using var onStopping = stopping.Register(() => session.Close(CloseCodes.GoingAway, "server shutting down; reconnect and resume with join+rev"));
        var sending = SendLoopAsync(session, socket, options);
        var inbound = new InboundFrames(session, handle, logger);
        try
        {
            await ReceiveLoopAsync(session, socket, options, inbound, answerAtOnce, session.Aborted);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // The peer vanished or was aborted; nothing more to say to it.
        }
        catch (Exception e)
        {
            LogFailed(logger, session.Id, e);
            session.Enqueue(Frames.Error(ErrorCodes.Internal, "the server failed; reconnect and resume with join+rev", fatal: true));
            session.Close(CloseCodes.InternalError, "internal error");
        }
        finally
        {
            // Frames read before the client's close are still handled (as they would have been had they arrived sooner).
            await inbound.CompleteAsync();
            session.Close(CloseCodes.Normal, "bye");
        }
        await sending;
    }

    private static async Task ReceiveLoopAsync(Session session, WebSocket socket, FrontEndOptions options, InboundFrames inbound,
        Func<ReadOnlyMemory<byte>, bool> answerAtOnce, CancellationToken cancellationToken)
    {
        var max = options.MaxMessageBytes;
        while (socket.State == WebSocketState.Open && session.CloseRequest is null)
        {
            // Zero-byte read: an idle session holds no receive buffer.
            var peek = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
            if (peek.MessageType == WebSocketMessageType.Close) break;
            if (peek.EndOfMessage)
            {
                // An empty message is consumed whole by the zero-byte read: answer it like any other frame.
                if (peek.MessageType == WebSocketMessageType.Text)
                {
                    var empty = ArrayPool<byte>.Shared.Rent(1);
                    await inbound.WhenRoomAsync(empty.Length, cancellationToken);
                    inbound.Enqueue(empty, 0);
                }
                else
                {
                    session.Enqueue(Frames.Error(ErrorCodes.BadJson, "collab.v1 frames are JSON text frames; binary frames are not accepted", fatal: true));
                    session.Close(CloseCodes.ProtocolError, "binary frames are not part of collab.v1");
                    return;
                }
                continue;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(4096, max + 1));
            var queued = false;
            try
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        // A big frame: wait until earlier frames are handled before holding more than the budget.
                        var size = Math.Min(buffer.Length * 2, max + 1);
                        await inbound.WhenRoomAsync(size, cancellationToken);
                        var bigger = ArrayPool<byte>.Shared.Rent(size);
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                    result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
                    length += result.Count;
                    if (length > max)
                    {
                        session.Enqueue(Frames.Error(ErrorCodes.TooLarge, $"frames are limited to {max} bytes", fatal: true));
                        session.Close(CloseCodes.MessageTooBig, $"frame larger than {max} bytes");
                        return;
                    }
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close) break;
                if (result.MessageType == WebSocketMessageType.Binary)
                {
                    session.Enqueue(Frames.Error(ErrorCodes.BadJson, "collab.v1 frames are JSON text frames; binary frames are not accepted", fatal: true));
                    session.Close(CloseCodes.ProtocolError, "binary frames are not part of collab.v1");
                    return;
                }
                if (answerAtOnce(buffer.AsMemory(0, length))) continue;
                if (inbound.IsIdle)
                {
                    // Nothing before it: handle it here, and hand it over only if it has to wait (a grain call).
                    var handling = inbound.Handle(buffer.AsMemory(0, length));
                    if (handling.IsCompleted)
                    {
                        await handling;
                        continue;
                    }
                    inbound.EnqueueStarted(buffer, handling);
                    queued = true;
                    continue;
                }
                await inbound.WhenRoomAsync(buffer.Length, cancellationToken);
                inbound.Enqueue(buffer, length);
                queued = true;
            }
            finally
            {
                if (!queued) ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    private static async Task SendLoopAsync(Session session, WebSocket socket, FrontEndOptions options)
    {
        try
        {
            await foreach (var frame in session.Outbox.ReadAllAsync())
            {
                session.Sent(frame);
                if (session.CloseRequest is { Code: CloseCodes.SendQueueOverflow }) break;
                await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, session.Aborted);
            }
            await CloseSocketAsync(session, socket, options);
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            session.Abort();
        }
    }

    private static async Task CloseSocketAsync(Session session, WebSocket socket, FrontEndOptions options)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseReceived)) return;
        var (code, reason) = session.CloseRequest ?? (CloseCodes.Normal, "bye");
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
        session.AbortAfterCloseTimeout();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Session {SessionId} failed")]
    private static partial void LogFailed(ILogger logger, string sessionId, Exception error);

}
