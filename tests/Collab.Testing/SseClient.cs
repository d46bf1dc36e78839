using System.Net;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Collab.Testing;

/// <summary>
/// A collab.v1 client over the fallback transport (docs/protocol.md): server frames arrive as Server-Sent Events on
/// <c>GET /sse</c>, client frames go as <c>POST</c> to the stream's <c>postUrl</c> with the session's token in the
/// <c>Collab-Session</c> header (text/plain, one frame a line), one POST at a time.
/// Keeps the session alive with a <c>ping</c> every heartbeatMs. Written from the wire contract only.
/// </summary>
public sealed class SseClient : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly HttpResponseMessage stream;
    private readonly Channel<JsonElement> inbox = Channel.CreateUnbounded<JsonElement>();
    private readonly SemaphoreSlim postLock = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Task receiving;
    private Task? heartbeat;

    private SseClient(HttpClient http, HttpResponseMessage stream, string clientId)
    {
        this.http = http;
        this.stream = stream;
        ClientId = clientId;
        receiving = ReceiveLoopAsync();
    }

    public string ClientId { get; }

    /// <summary>The <c>postUrl</c> of the <c>transport</c> event.</summary>
    public string PostUrl { get; private set; } = "";

    /// <summary>The <c>session</c> of the <c>transport</c> event: the secret every POST carries in <c>Collab-Session</c>.</summary>
    public string SessionToken { get; private set; } = "";

    public int HeartbeatMs { get; private set; }

    public string? SessionId { get; private set; }

    /// <summary>This session's public tag, from <c>welcome</c>.</summary>
    public string? Author { get; private set; }

    /// <summary>The code of the server's <c>close</c> event, if one came.</summary>
    public int? CloseCode { get; private set; }

    /// <summary><c>: ping</c> comment lines received.</summary>
    public int CommentPings { get; private set; }

    /// <summary>Every POST's status, in order.</summary>
    public List<HttpStatusCode> PostStatuses { get; } = [];

    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The response headers of <c>GET /sse</c>.</summary>
    public HttpResponseMessage StreamResponse => stream;

    /// <summary>Opens <c>GET /sse</c> on <paramref name="baseUri"/>, reads the <c>transport</c> event, says hello and waits for welcome.</summary>
    public static async Task<SseClient> ConnectAsync(Uri baseUri, string clientId, string? name = null)
    {
        var http = new HttpClient { BaseAddress = baseUri, Timeout = Timeout.InfiniteTimeSpan };
        HttpResponseMessage response;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/sse");
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var connectTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, connectTimeout.Token);
        }
        catch
        {
            http.Dispose();
            throw;
        }
        if (response.StatusCode != HttpStatusCode.OK || response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            http.Dispose();
            throw new InvalidOperationException($"GET /sse answered {(int)response.StatusCode} {response.Content.Headers.ContentType}: {body}");
        }
        var client = new SseClient(http, response, clientId);
        try
        {
            var transport = await client.ExpectAsync("transport");
            client.PostUrl = transport.GetProperty("postUrl").GetString()!;
            client.SessionToken = transport.GetProperty("session").GetString()!;
            client.HeartbeatMs = transport.GetProperty("heartbeatMs").GetInt32();
            await client.SendAsync(new { type = "hello", clientId, instance = "i-" + clientId, user = new { name = name ?? clientId, color = "#654321" } });
            var welcome = await client.ExpectAsync("welcome");
            client.SessionId = welcome.GetProperty("sessionId").GetString();
            client.Author = welcome.GetProperty("author").GetString();
            client.heartbeat = client.HeartbeatLoopAsync();
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    public Task SendAsync(object frame) => SendRawAsync(JsonSerializer.Serialize(frame));

    /// <summary>POSTs one or more frames (joined by newlines); throws unless the server answers 202.</summary>
    public async Task SendRawAsync(params string[] frames)
    {
        var status = await TryPostAsync(string.Join('\n', frames));
        if (status != HttpStatusCode.Accepted) throw new InvalidOperationException($"POST {PostUrl} answered {(int)status}");
    }

    /// <summary>POSTs a body as is and returns the status; POSTs never overlap, so frames keep their order.</summary>
    public async Task<HttpStatusCode> TryPostAsync(string body)
    {
        await postLock.WaitAsync();
        try
        {
            return await PostNowAsync(body);
        }
        finally
        {
            postLock.Release();
        }
    }

    /// <summary>POSTs a body at once, beside any POST still in flight (a live ping, which needs no order).</summary>
    public async Task<HttpStatusCode> PostNowAsync(string body)
    {
        {
            using var content = new StringContent(body, Encoding.UTF8, "text/plain");
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(PostUrl, UriKind.Relative)) { Content = content };
            request.Headers.Add("Collab-Session", SessionToken);
            using var response = await http.SendAsync(request, timeout.Token);
            lock (PostStatuses) PostStatuses.Add(response.StatusCode);
            return response.StatusCode;
        }
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
            throw new TimeoutException("no event arrived in time");
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException($"the event stream ended (close {CloseCode})");
        }
    }

    public async Task<JsonElement> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var frame = await NextAsync(timeout);
        var actual = frame.GetProperty("type").GetString();
        if (actual != type) throw new Xunit.Sdk.XunitException($"expected a '{type}' event, got {frame.GetRawText()}");
        return frame;
    }

    /// <summary>Skips frames until one of <paramref name="type"/> arrives.</summary>
    public async Task<JsonElement> WaitForAsync(string type, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) throw new TimeoutException($"no '{type}' event arrived in time");
            var frame = await NextAsync(left);
            if (frame.GetProperty("type").GetString() == type && (match is null || match(frame))) return frame;
        }
    }

    /// <summary>Parses the event stream: <c>data:</c> lines make an event, a blank line ends it, <c>:</c> lines are comments.</summary>
    private async Task ReceiveLoopAsync()
    {
        try
        {
            using var body = await stream.Content.ReadAsStreamAsync(stopping.Token);
            using var reader = new StreamReader(body, Encoding.UTF8);
            var data = new StringBuilder();
            while (await reader.ReadLineAsync(stopping.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data.Length == 0) continue;
                    var frame = JsonDocument.Parse(data.ToString()).RootElement.Clone();
                    data.Clear();
                    if (frame.GetProperty("type").GetString() == "close") CloseCode = frame.GetProperty("code").GetInt32();
                    inbox.Writer.TryWrite(frame);
                    continue;
                }
                if (line[0] == ':')
                {
                    CommentPings++;
                    continue;
                }
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    if (data.Length > 0) data.Append('\n');
                    data.Append(line.AsSpan(line.Length > 5 && line[5] == ' ' ? 6 : 5));
                }
                // event:, id:, retry: are not used by collab.v1.
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or HttpRequestException)
        {
        }
        finally
        {
            inbox.Writer.TryComplete();
            Closed.TrySetResult();
        }
    }

    /// <summary>A <c>ping</c> at half the heartbeat: the server closes a session that POSTs nothing for 3 × heartbeatMs.</summary>
    private async Task HeartbeatLoopAsync()
    {
        try
        {
            while (!stopping.IsCancellationRequested && !Closed.Task.IsCompleted)
            {
                await Task.Delay(Math.Max(100, HeartbeatMs / 2), stopping.Token);
                await TryPostAsync("{\"type\":\"ping\"}");
            }
        }
        catch (Exception e) when (e is OperationCanceledException or HttpRequestException or ObjectDisposedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        stream.Dispose();
        await receiving.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (heartbeat is not null) await heartbeat.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        http.Dispose();
        stopping.Dispose();
        postLock.Dispose();
    }
}
