using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Collab.Ot;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>
/// Collab behind a real nginx (Debian's package, started on loopback) running the shipped infra/nginx/collab.conf:
/// WebSockets go through it, an idle editor outlives nginx's read timeout thanks to the server's pings, and when nginx
/// strips the Upgrade header the SSE + POST fallback still edits.
/// </summary>
public sealed class NginxTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Two_editors_through_nginx_converge_with_the_text_nginx_serves_from_the_API()
    {
        var seed = RandomEdits.Seed();
        output.WriteLine($"seed {seed}");
        await using var server = await CollabServer.StartAsync();
        using var nginx = await NginxServer.StartAsync([server.BaseUri.Authority]);
        const string doc = "nginx-ws";

        // A browser sends its page's origin; nginx must pass Host with its port for the same-origin check to hold.
        await using (var browser = await TestClient.OpenAsync(nginx.WebSocketUri, "browser", o => o.SetRequestHeader("Origin", nginx.BaseUri.GetLeftPart(UriPartial.Authority))))
        {
            await browser.SendAsync(new { type = "hello", clientId = "browser" });
            await browser.ExpectAsync("welcome");
        }

        await using var alice = await OtConnection.ConnectAsync(nginx.WebSocketUri, "alice-nginx");
        await using var bob = await OtConnection.ConnectAsync(nginx.WebSocketUri, "bob-nginx");
        var models = new[] { await OtClientModel.JoinAsync(alice, doc), await OtClientModel.JoinAsync(bob, doc) };
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(models.Select((m, i) => RandomEdits.TypeAsync(m, new Random(seed + i), edits: 40)));

        using var http = nginx.Http();
        var (text, rev) = await ServerStateAsync(http, doc, models, seed);
        output.WriteLine($"rev {rev} after {stopwatch.ElapsedMilliseconds} ms; nginx access log:\n{Tail(nginx.AccessLog)}");
        Report.Figure("nginx websocket", $"2 editors through nginx committed {rev} ops in {stopwatch.ElapsedMilliseconds} ms and converged");
        Assert.True(rev > 0, "nothing was committed");
        foreach (var model in models) Assert.Equal((text, rev), (model.State.Text, model.State.Rev));
        Assert.Contains("GET /ws HTTP/1.1\" 101", nginx.AccessLog, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_idle_editor_outlives_the_nginx_read_timeout_because_the_server_pings_within_it()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:HeartbeatMs"] = "1000" });
        using var nginx = await NginxServer.StartAsync([server.BaseUri.Authority], new NginxSettings(ReadTimeout: "3s", SendTimeout: "3s"));
        const string doc = "nginx-idle";

        await using var idle = await IdleEditorAsync(nginx, "idle-editor", doc);
        var idleFor = TimeSpan.FromSeconds(8);
        var cut = await Task.WhenAny(idle.Closed.Task, Task.Delay(idleFor)) == idle.Closed.Task;
        Assert.False(cut, $"nginx closed the idle editor ({idle.CloseStatus}); error.log:\n{Tail(nginx.ErrorLog)}");

        // Still connected, and still able to edit.
        await idle.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "still here" } });
        var ack = await idle.WaitForAsync("ack");
        Assert.Equal(1, ack.GetProperty("rev").GetInt64());
        Report.Figure("nginx idle", $"an editor idle for {idleFor.TotalSeconds:F0} s (nginx proxy_read_timeout 3s, server pings every 1000 ms) stayed connected and edited");
    }

    [Fact]
    public async Task Control_an_idle_editor_is_cut_at_the_nginx_read_timeout_when_the_server_pings_less_often()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:HeartbeatMs"] = "5000" });
        using var nginx = await NginxServer.StartAsync([server.BaseUri.Authority], new NginxSettings(ReadTimeout: "1s", SendTimeout: "1s"));

        await using var idle = await IdleEditorAsync(nginx, "cut-editor", "nginx-cut");
        var stopwatch = Stopwatch.StartNew();
        var cut = await Task.WhenAny(idle.Closed.Task, Task.Delay(TimeSpan.FromSeconds(8))) == idle.Closed.Task;
        var after = stopwatch.Elapsed;
        output.WriteLine($"cut after {after.TotalMilliseconds:F0} ms ({idle.CloseStatus}); error.log:\n{Tail(nginx.ErrorLog)}");
        Assert.True(cut, "nginx (proxy_read_timeout 1s) did not cut an editor whose server pings every 5 s: the idle test could not fail");
        Assert.InRange(after, TimeSpan.Zero, TimeSpan.FromSeconds(4));
        Report.Figure("nginx idle control", $"with proxy_read_timeout 1s and server pings every 5000 ms nginx cut the idle editor after {after.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task When_nginx_strips_Upgrade_the_handshake_fails_and_an_SSE_editor_converges_with_a_WebSocket_editor()
    {
        var seed = RandomEdits.Seed();
        output.WriteLine($"seed {seed}");
        await using var server = await CollabServer.StartAsync();
        using var nginx = await NginxServer.StartAsync([server.BaseUri.Authority], new NginxSettings(StripUpgrade: true));
        const string doc = "nginx-sse";

        await Assert.ThrowsAsync<WebSocketException>(() => TestClient.OpenAsync(nginx.WebSocketUri, "no-upgrade"));

        await using var sse = await SseClient.ConnectAsync(nginx.BaseUri, "sse-editor");
        Assert.Contains("no-cache", sse.StreamResponse.Headers.CacheControl?.ToString() ?? "", StringComparison.Ordinal);
        var fallback = new SseEditor(sse, doc);
        await fallback.JoinAsync();

        await using var direct = await OtConnection.ConnectAsync(server.WebSocketUri, "ws-editor");
        var model = await OtClientModel.JoinAsync(direct, doc);

        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(
            RandomEdits.TypeAsync(model, new Random(seed), edits: 30),
            fallback.EditRandomlyAsync(new Random(seed + 1), edits: 30));

        using var http = nginx.Http();
        var (text, rev) = await ServerStateAsync(http, doc, [model], seed);
        await fallback.WaitUntilAsync(rev, Settle);
        output.WriteLine($"rev {rev} after {stopwatch.ElapsedMilliseconds} ms; {sse.PostStatuses.Count} POSTs, {sse.CommentPings} ': ping' comments");
        Report.Figure("nginx sse fallback", $"Upgrade stripped: an SSE editor through nginx and a WebSocket editor committed {rev} ops in {stopwatch.ElapsedMilliseconds} ms and converged ({sse.PostStatuses.Count} POSTs)");
        Assert.True(rev > 30, $"rev {rev}: the SSE editor's 30 ops (one at a time, so one revision each) and the WebSocket editor's were not all committed");
        Assert.Equal((text, rev), (model.State.Text, model.State.Rev));
        Assert.Equal((text, rev), fallback.State);
        Assert.Empty(fallback.Problems);
    }

    /// <summary>An editor through nginx that sends nothing unasked (its own keep-alive is off) once it has joined; it only answers the server's pings.</summary>
    private static async Task<TestClient> IdleEditorAsync(NginxServer nginx, string clientId, string doc)
    {
        var client = await TestClient.OpenAsync(nginx.WebSocketUri, clientId, o => o.KeepAliveInterval = TimeSpan.Zero);
        await client.SendAsync(new { type = "hello", clientId });
        await client.ExpectAsync("welcome");
        await client.JoinAsync(doc);
        return client;
    }

    /// <summary>Waits until every model has its ops acknowledged and holds the server's revision; returns the server's text and revision.</summary>
    private static async Task<(string Text, long Rev)> ServerStateAsync(HttpClient http, string doc, IReadOnlyList<OtClientModel> models, int seed)
    {
        foreach (var model in models)
            await model.WaitUntilAsync(m => m.State.Synchronized, Settle, $"seed {seed}: acknowledgement of every own op");
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        var rev = state.GetProperty("rev").GetInt64();
        foreach (var model in models)
            await model.WaitUntilAsync(m => m.State.Rev >= rev, Settle, $"seed {seed}: reaching rev {rev}");
        var problems = models.SelectMany(m => m.Problems).Concat(models.SelectMany(m => m.Connection.Problems)).ToList();
        Assert.True(problems.Count == 0, $"seed {seed}: {string.Join("\n", problems)}");
        return (state.GetProperty("text").GetString()!, rev);
    }

    private static string Tail(string log) => log.Length <= 3000 ? log : log[^3000..];

    /// <summary>
    /// A minimal OT client over <see cref="SseClient"/>: at most one op in flight and no buffer (it edits only when
    /// synchronized), remote ops transformed against the op in flight, own ops settled by <c>ack</c>.
    /// </summary>
    private sealed class SseEditor(SseClient client, string doc)
    {
        private readonly Lock gate = new();
        private string text = "";
        private long rev;
        private TextOperation? outstanding;
        private long seq;
        private Task? pump;
        private readonly TaskCompletionSource joined = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Problems { get; } = [];

        public (string Text, long Rev) State
        {
            get
            {
                lock (gate) return (text, rev);
            }
        }

        public async Task JoinAsync()
        {
            pump = PumpAsync();
            await client.SendAsync(new { type = "join", doc });
            await joined.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        public async Task EditRandomlyAsync(Random random, int edits)
        {
            for (var i = 0; i < edits; i++)
            {
                await WaitAsync(() => outstanding is null, "an ack");
                string frame;
                lock (gate)
                {
                    var op = RandomEdits.Next(random, text);
                    text = op.Apply(text);
                    outstanding = op;
                    seq++;
                    frame = $"{{\"type\":\"op\",\"doc\":\"{doc}\",\"rev\":{rev},\"seq\":{seq},\"op\":{op.ToJson()}}}";
                }
                await client.SendRawAsync(frame);
                await Task.Delay(random.Next(10));
            }
            await WaitAsync(() => outstanding is null, "the last ack");
        }

        public Task WaitUntilAsync(long target, TimeSpan timeout) => WaitAsync(() => rev >= target, $"rev {target}", timeout);

        private async Task WaitAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
        {
            var deadline = DateTime.UtcNow + (timeout ?? Settle);
            while (true)
            {
                lock (gate)
                {
                    if (condition()) return;
                }
                if (DateTime.UtcNow > deadline || pump!.IsCompleted)
                    throw new TimeoutException($"SSE editor: no {what} (rev {rev}; stream {(pump!.IsCompleted ? "ended" : "open")}, close {client.CloseCode}; problems: {string.Join(" | ", Problems)})");
                await Task.Delay(5);
            }
        }

        private async Task PumpAsync()
        {
            while (true)
            {
                JsonElement frame;
                try
                {
                    frame = await client.NextAsync(TimeSpan.FromHours(1));
                }
                catch (InvalidOperationException)
                {
                    return;
                }
                var type = frame.GetProperty("type").GetString();
                lock (gate)
                {
                    switch (type)
                    {
                        case "joined":
                            text = frame.GetProperty("text").GetString()!;
                            rev = frame.GetProperty("rev").GetInt64();
                            joined.TrySetResult();
                            break;
                        case "ack":
                            if (frame.GetProperty("rev").GetInt64() != rev + 1 || frame.GetProperty("seq").GetInt64() != seq || outstanding is null)
                                Problems.Add($"unexpected {frame.GetRawText()} at rev {rev}");
                            rev = frame.GetProperty("rev").GetInt64();
                            outstanding = null;
                            break;
                        case "op":
                            if (frame.GetProperty("rev").GetInt64() != rev + 1) Problems.Add($"gap: {frame.GetRawText()} at rev {rev}");
                            var remote = TextOperation.Parse(frame.GetProperty("op").GetRawText());
                            if (outstanding is not null) (outstanding, remote) = TextOperation.Transform(outstanding, remote);
                            text = remote.Apply(text);
                            rev = frame.GetProperty("rev").GetInt64();
                            break;
                        case "error" or "close":
                            Problems.Add(frame.GetRawText());
                            break;
                    }
                }
            }
        }
    }
}
