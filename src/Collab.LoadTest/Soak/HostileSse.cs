using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Collab.LoadTest;

/// <summary>
/// Fallback streams (docs/protocol.md, section 7a) opened and abandoned, in turn: dropped right after the first event;
/// held without a word until the server ends them at the hello deadline; or introduced, a document joined, then dropped.
/// </summary>
internal sealed class HostileSse(ServerApi api, LoadOptions options, Outcomes outcomes) : IDisposable
{
    private readonly HttpClient http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromSeconds(30) })
    {
        BaseAddress = api.BaseUri,
        Timeout = Timeout.InfiniteTimeSpan,
    };

    private int round;

    public async Task OnceAsync(CancellationToken stop)
    {
        var mode = round++ % 3;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stop);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        using var response = await http.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            outcomes.Count($"http {(int)response.StatusCode} sse");
            await Task.Delay(1000, stop);
            return;
        }
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token), Encoding.UTF8);
        var first = await NextEventAsync(reader, deadline.Token);
        if (first is null || first.Value.GetProperty("type").GetString() != "transport")
        {
            outcomes.Count("sse without a transport event");
            return;
        }
        outcomes.Count("sse opened");
        switch (mode)
        {
            case 0:
                outcomes.Count("sse abandoned at once");
                return;
            case 1:
                // Never POST: the stream must end with a close event at the hello deadline.
                while (await NextEventAsync(reader, deadline.Token) is { } e)
                {
                    if (e.GetProperty("type").GetString() != "close") continue;
                    outcomes.Count($"close {e.GetProperty("code").GetInt32().ToString(CultureInfo.InvariantCulture)} sse");
                    return;
                }
                outcomes.Count("sse ended without a close event");
                return;
            default:
                var doc = $"{options.DocPrefix}-sse";
                var body = $$"""
                    {"type":"hello","clientId":"{{Runner.ClientId(options, "sse")}}"}
                    {"type":"join","doc":"{{doc}}"}
                    """;
                using (var post = new HttpRequestMessage(HttpMethod.Post, "/sse") { Content = new StringContent(body, Encoding.UTF8, "text/plain") })
                {
                    post.Headers.Add("Collab-Session", first.Value.GetProperty("session").GetString());
                    using var posted = await http.SendAsync(post, deadline.Token);
                    if (posted.StatusCode != HttpStatusCode.Accepted) outcomes.Count($"http {(int)posted.StatusCode} sse post");
                }
                while (await NextEventAsync(reader, deadline.Token) is { } e)
                {
                    var type = e.GetProperty("type").GetString();
                    if (type == "joined")
                    {
                        outcomes.Count("sse joined, abandoned");
                        return;
                    }
                    if (type == "error") outcomes.Count($"error {e.GetProperty("code").GetString()} sse");
                    if (type == "close")
                    {
                        outcomes.Count($"close {e.GetProperty("code").GetInt32().ToString(CultureInfo.InvariantCulture)} sse");
                        return;
                    }
                }
                return;
        }
    }

    /// <summary>The next <c>data:</c> event of the stream (comments skipped), or null at its end.</summary>
    private static async Task<JsonElement?> NextEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) return JsonDocument.Parse(line[6..]).RootElement.Clone();
        return null;
    }

    /// <summary>Closes the pooled connections, so the server's descriptor count can return to where it started.</summary>
    public void Dispose() => http.Dispose();
}
