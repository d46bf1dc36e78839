using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;

namespace Collab.LoadTest;

/// <summary>What one read from a hostile socket gave: a frame, or the end of the connection (a close code, or <c>aborted</c> when it dropped without one).</summary>
internal readonly record struct Received(ServerFrame? Frame, string? End)
{
    /// <summary>The outcome kind to count: <c>error &lt;code&gt;</c>, <c>close &lt;code&gt;</c>, <c>close aborted</c>, or the frame's type.</summary>
    public string Kind => End is { } end ? $"close {end}" : Frame!.Type == "error" ? $"error {Frame.Code}" : Frame.Type ?? "untyped";
}

/// <summary>
/// A bare collab.v1 socket for the soak's hostile clients: frames sent as given (garbage too), frames read one at a
/// time only when the client chooses to read, so it can also never read. No OT, no resends.
/// </summary>
internal sealed class HostileSocket : IAsyncDisposable
{
    private readonly ClientWebSocket socket = new();
    private readonly ArrayBufferWriter<byte> message = new(16 * 1024);
    private readonly byte[] chunk = new byte[16 * 1024];

    private HostileSocket()
    {
    }

    public bool IsOpen => socket.State == WebSocketState.Open;

    /// <summary>Opens a socket offering collab.v1; <paramref name="smallBuffers"/> keeps the client's own receive buffer at 1 KiB (a reader that stalls).</summary>
    public static async Task<HostileSocket> OpenAsync(Uri webSocketUri, CancellationToken cancellationToken, bool smallBuffers = false)
    {
        var s = new HostileSocket();
        s.socket.Options.AddSubProtocol("collab.v1");
        if (smallBuffers) s.socket.Options.SetBuffer(1024, 1024);
        try
        {
            await s.socket.ConnectAsync(webSocketUri, cancellationToken);
        }
        catch
        {
            s.socket.Dispose();
            throw;
        }
        return s;
    }

    public Task SendAsync(byte[] bytes, CancellationToken cancellationToken, WebSocketMessageType type = WebSocketMessageType.Text) =>
        socket.SendAsync(bytes, type, endOfMessage: true, cancellationToken);

    public Task SendAsync(Action<Utf8JsonWriter> body, CancellationToken cancellationToken) => SendAsync(LoadClient.Json(body), cancellationToken);

    /// <summary>Sends <c>hello</c> and reads up to <c>welcome</c>; the welcome, or what came instead.</summary>
    public async Task<Received> HelloAsync(string clientId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await SendAsync(w =>
        {
            w.WriteString("type"u8, "hello"u8);
            w.WriteString("clientId"u8, clientId);
        }, cancellationToken);
        return await WaitForAsync(f => f.Type == "welcome", timeout, cancellationToken);
    }

    /// <summary>Reads the next whole frame; a timeout ends the connection (counted as <c>close timeout</c>).</summary>
    public async Task<Received> ReceiveAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        message.ResetWrittenCount();
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(chunk, deadline.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                    return new Received(null, result.CloseStatus is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "without status");
                message.Write(chunk.AsSpan(0, result.Count));
                if (result.EndOfMessage) return new Received(ServerFrame.Parse(message.WrittenSpan), null);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new Received(null, "timeout");
        }
        catch (Exception e) when (e is WebSocketException or IOException)
        {
            return new Received(null, "aborted");
        }
    }

    /// <summary>Reads until a frame matches, an <c>error</c> frame comes, or the connection ends; other frames are skipped.</summary>
    public async Task<Received> WaitForAsync(Func<ServerFrame, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var left = until - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return new Received(null, "timeout");
            var received = await ReceiveAsync(left, cancellationToken);
            if (received.Frame is not { } frame || frame.Type == "error" || match(frame)) return received;
        }
    }

    /// <summary>Drops the connection without a close handshake.</summary>
    public void Abort() => socket.Abort();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Best effort: a hostile socket may already be gone.
        }
        socket.Dispose();
    }
}
