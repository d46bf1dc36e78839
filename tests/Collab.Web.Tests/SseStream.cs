using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// A client of the SSE fallback: the event stream read into frames, and POSTs to the stream's <c>postUrl</c> naming the
/// session in <c>Collab-Session</c>. Records every URL it requests, so tests can check that none carries the secret.
/// </summary>
internal sealed class SseStream : IAsyncDisposable
{
    private readonly HttpClient http;
    private readonly HttpResponseMessage response;
    private readonly Channel<JsonElement> events = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource stop = new();
    private readonly Task reading;

    private SseStream(HttpClient http, HttpResponseMessage response, List<Uri> uris)
    {
        this.http = http;
        this.response = response;
        RequestUris = uris;
        reading = ReadAsync();
    }

    public string PostUrl { get; private set; } = "";
    public string SessionToken { get; private set; } = "";

    /// <summary>Every request URL this client sent, in order.</summary>
    public List<Uri> RequestUris { get; }
    public int HeartbeatMs { get; private set; }
    public int Comments { get; private set; }
    public Task Ended => reading;

    public static async Task<SseStream> OpenAsync(CollabServer server)
    {
        var uris = new List<Uri>();
        var http = new HttpClient(new RecordingHandler(uris)) { BaseAddress = server.BaseUri, Timeout = Timeout.InfiniteTimeSpan };
        var response = await http.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        var stream = new SseStream(http, response, uris);
        var transport = await stream.NextAsync();
        Assert.Equal(("transport", "sse"), (transport.GetProperty("type").GetString(), transport.GetProperty("transport").GetString()));
        stream.PostUrl = transport.GetProperty("postUrl").GetString()!;
        stream.SessionToken = transport.GetProperty("session").GetString()!;
        stream.HeartbeatMs = transport.GetProperty("heartbeatMs").GetInt32();
        return stream;
    }

    public async Task<HttpStatusCode> PostAsync(string frames, string? session = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, PostUrl) { Content = new StringContent(frames, Encoding.UTF8, "text/plain") };
        request.Headers.Add("Collab-Session", session ?? SessionToken);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>Notes each request's URL as it is sent.</summary>
    private sealed class RecordingHandler(List<Uri> uris) : DelegatingHandler(new HttpClientHandler())
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            lock (uris) uris.Add(request.RequestUri!);
            return base.SendAsync(request, cancellationToken);
        }
    }

    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        return await events.Reader.ReadAsync(cts.Token);
    }

    public async Task<JsonElement> NextOfAsync(string type, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var frame = await NextAsync(deadline - DateTime.UtcNow);
            if (frame.GetProperty("type").GetString() == type) return frame;
        }
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stop.Token));
            while (await reader.ReadLineAsync(stop.Token) is { } line)
            {
                if (line.StartsWith(':')) Comments++;
                else if (line.StartsWith("data: ", StringComparison.Ordinal)) events.Writer.TryWrite(JsonDocument.Parse(line[6..]).RootElement.Clone());
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
        }
        finally
        {
            events.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await reading.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        response.Dispose();
        http.Dispose();
    }
}
