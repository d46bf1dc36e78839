using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Collab.Testing;

/// <summary>A raw collab.v1 WebSocket client for tests: sends JSON frames, receives them into a queue to await on.</summary>
public sealed class TestClient : IAsyncDisposable
{
    private readonly Channel<JsonElement> inbox = Channel.CreateUnbounded<JsonElement>();
    private readonly Task receiving;

    private TestClient(ClientWebSocket socket, string clientId, bool recordRaw)
    {
        Socket = socket;
        ClientId = clientId;
        RawFrames = recordRaw ? new ConcurrentQueue<byte[]>() : null;
        receiving = ReceiveLoopAsync();
    }

    public ClientWebSocket Socket { get; }

    public string ClientId { get; }

    public string? SessionId { get; private set; }

    /// <summary>The bytes of every message received, as they came off the socket; null unless opened with <c>recordRaw</c>.</summary>
    public ConcurrentQueue<byte[]>? RawFrames { get; }

    /// <summary>This session's public tag, from <c>welcome</c>: how the server names its ops and cursors to others.</summary>
    public string? Author { get; private set; }

    /// <summary>The largest message received so far, in bytes.</summary>
    public int MaxFrameBytes { get; private set; }

    private readonly JoinedParts parts = new();

    /// <summary>Set once the server closed the socket.</summary>
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Opens a socket offering collab.v1 without saying hello.</summary>
    public static async Task<TestClient> OpenAsync(Uri uri, string clientId, Action<ClientWebSocketOptions>? configure = null, bool recordRaw = false)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("collab.v1");
        configure?.Invoke(socket.Options);
        await socket.ConnectAsync(uri, CancellationToken.None);
        return new TestClient(socket, clientId, recordRaw);
    }

    /// <summary>Opens a socket and completes the hello/welcome exchange.</summary>
    public static async Task<TestClient> ConnectAsync(Uri uri, string clientId, string? name = null, bool recordRaw = false)
    {
        var client = await OpenAsync(uri, clientId, recordRaw: recordRaw);
        // The instance stands for "the same program": a test reconnecting with a clientId takes over its own old session.
        await client.SendAsync(new { type = "hello", clientId, instance = "i-" + clientId, user = new { name = name ?? clientId, color = "#123456" } });
        client.Welcomed(await client.ExpectAsync("welcome"));
        return client;
    }

    /// <summary>Takes the session id and author tag from a <c>welcome</c> the test read itself.</summary>
    public void Welcomed(JsonElement welcome)
    {
        SessionId = welcome.GetProperty("sessionId").GetString();
        Author = welcome.GetProperty("author").GetString();
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.Serialize(frame));

    public Task SendRawAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Joins a document and returns the <c>joined</c> frame.</summary>
    public async Task<JsonElement> JoinAsync(string doc, long? rev = null)
    {
        await SendAsync(rev is null ? new { type = "join", doc } : new { type = "join", doc, rev });
        return await ExpectAsync("joined");
    }

    /// <summary>The next frame, whatever it is.</summary>
    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        try
        {
            return await inbox.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("no frame arrived in time");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"the socket closed ({CloseStatus})");
        }
    }

    /// <summary>The next frame, which must be of <paramref name="type"/> (anything else fails the test with the frame shown).</summary>
    public async Task<JsonElement> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var frame = await NextAsync(timeout);
        var actual = frame.GetProperty("type").GetString();
        if (actual != type) throw new Xunit.Sdk.XunitException($"expected a '{type}' frame, got {frame.GetRawText()}");
        return frame;
    }

    /// <summary>Skips frames until one of <paramref name="type"/> arrives.</summary>
    public async Task<JsonElement> WaitForAsync(string type, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no '{type}' frame arrived in time");
            var frame = await NextAsync(left);
            if (frame.GetProperty("type").GetString() == type && (match is null || match(frame))) return frame;
        }
    }

    /// <summary>True when no frame arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> IsQuietAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        try
        {
            await inbox.Reader.WaitToReadAsync(cts.Token);
            return false;
        }
        catch (OperationCanceledException)
        {
            return true;
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    CloseStatus = result.CloseStatus;
                    break;
                }
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var bytes = message.ToArray();
                RawFrames?.Enqueue(bytes);
                MaxFrameBytes = Math.Max(MaxFrameBytes, bytes.Length);
                if (parts.Offer(JsonDocument.Parse(bytes).RootElement.Clone()) is { } frame) inbox.Writer.TryWrite(frame);
                message.SetLength(0);
            }
        }
        catch (WebSocketException)
        {
            CloseStatus ??= Socket.CloseStatus;
        }
        finally
        {
            inbox.Writer.TryComplete();
            Closed.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            Socket.Abort();
        }
        await receiving.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        Socket.Dispose();
    }
}
