using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>The fallback transport: Server-Sent Events down, POSTs up, carrying the same collab.v1 frames.</summary>
public sealed class SseTransportTests
{
    [Fact]
    public async Task A_fallback_session_edits_with_a_websocket_session()
    {
        await using var server = await CollabServer.StartAsync();
        const string doc = "sse-edit";
        await using var sse = await SseStream.OpenAsync(server);

        Assert.Equal(HttpStatusCode.Accepted, await sse.PostAsync("""{"type":"hello","clientId":"sse-client","user":{"name":"Ssa"}}"""));
        var welcome = await sse.NextAsync();
        Assert.Equal("welcome", welcome.GetProperty("type").GetString());
        var sseAuthor = welcome.GetProperty("author").GetString();
        await sse.PostAsync($$"""{"type":"join","doc":"{{doc}}"}""");
        Assert.Equal(0, (await sse.NextOfAsync("joined")).GetProperty("rev").GetInt64());

        await using var ws = await server.ConnectAsync("ws-client");
        await ws.JoinAsync(doc);

        await sse.PostAsync($$"""{"type":"op","doc":"{{doc}}","rev":0,"seq":1,"op":["over sse "]}""");
        var ack = await sse.NextOfAsync("ack");
        Assert.Equal((1L, 1L), (ack.GetProperty("seq").GetInt64(), ack.GetProperty("rev").GetInt64()));
        var seen = await ws.WaitForAsync("op");
        Assert.Equal(sseAuthor, seen.GetProperty("author").GetString());

        await ws.SendAsync(new { type = "op", doc, rev = 1, seq = 1, op = new object[] { 9, "and ws" } });
        var op = await sse.NextOfAsync("op");
        Assert.Equal((ws.Author, 2L), (op.GetProperty("author").GetString(), op.GetProperty("rev").GetInt64()));

        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal("over sse and ws", state.GetProperty("text").GetString());
    }

    [Fact]
    public async Task Several_frames_in_one_post_are_handled_in_order_and_bad_ones_get_their_errors()
    {
        await using var server = await CollabServer.StartAsync();
        await using var sse = await SseStream.OpenAsync(server);
        await sse.PostAsync("""
            {"type":"hello","clientId":"batch"}
            {"type":"join","doc":"sse-batch"}
            {"type":"op","doc":"sse-batch","rev":0,"seq":1,"op":["a"]}
            {not json
            {"type":"op","doc":"sse-batch","rev":1,"seq":2,"op":[1,"b"]}
            {"type":"ping","t":7}
            """);
        Assert.Equal("welcome", (await sse.NextAsync()).GetProperty("type").GetString());
        Assert.Equal("joined", (await sse.NextAsync()).GetProperty("type").GetString());
        // Acks travel in revision order through the document's feed; direct answers (errors, pongs) may overtake them.
        var rest = new List<JsonElement>();
        for (var i = 0; i < 4; i++) rest.Add(await sse.NextAsync());
        var acks = rest.Where(f => f.GetProperty("type").GetString() == "ack").Select(f => (f.GetProperty("seq").GetInt64(), f.GetProperty("rev").GetInt64()));
        Assert.Equal([(1L, 1L), (2L, 2L)], acks);
        Assert.Equal("bad_json", Assert.Single(rest, f => f.GetProperty("type").GetString() == "error").GetProperty("code").GetString());
        Assert.Equal(7, Assert.Single(rest, f => f.GetProperty("type").GetString() == "pong").GetProperty("t").GetInt64());
    }

    [Fact]
    public async Task Heartbeats_keep_the_stream_alive_and_a_client_that_stops_posting_is_closed_with_4408_after_the_idle_timeout()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:HeartbeatMs"] = "1000",
            ["Collab:FrontEnd:FallbackIdleTimeoutMs"] = "3000",
        });
        await using var sse = await SseStream.OpenAsync(server);
        Assert.Equal(1000, sse.HeartbeatMs);
        await sse.PostAsync("""{"type":"hello","clientId":"quiet"}""");
        await sse.NextOfAsync("welcome");

        // Pinging keeps it open past the idle timeout; heartbeat comments arrive meanwhile.
        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(1000);
            await sse.PostAsync("""{"type":"ping"}""");
        }
        Assert.True(sse.Comments >= 2, $"expected heartbeat comments, saw {sse.Comments}");

        // Silence for the idle timeout closes it, with the reason as the last event.
        var close = await sse.NextOfAsync("close", TimeSpan.FromSeconds(10));
        Assert.Equal(4408, close.GetProperty("code").GetInt32());
        await sse.Ended.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(HttpStatusCode.NotFound, await sse.PostAsync("""{"type":"ping"}"""));
    }

    [Fact]
    public async Task Unknown_sessions_oversized_posts_and_foreign_origins_are_refused()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:MaxMessageBytes"] = "2048" });
        using var http = server.Http();
        await using var sse = await SseStream.OpenAsync(server);
        Assert.Equal(HttpStatusCode.NotFound, await sse.PostAsync("""{"type":"ping"}""", session: "not-a-session"));
        using var unnamed = await http.PostAsync("/sse", new StringContent("""{"type":"ping"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, unnamed.StatusCode);
        Assert.Contains("Collab-Session", await unnamed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, await sse.PostAsync(new string('x', 4096)));

        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/sse");
        foreign.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(foreign)).StatusCode);
    }

    [Fact]
    public async Task Stopping_the_server_ends_the_stream_with_a_1001_close_event()
    {
        var server = await CollabServer.StartAsync();
        var sse = await SseStream.OpenAsync(server);
        await sse.PostAsync("""{"type":"hello","clientId":"bye"}""");
        await sse.NextOfAsync("welcome");
        var stopping = server.DisposeAsync().AsTask();
        Assert.Equal(1001, (await sse.NextOfAsync("close")).GetProperty("code").GetInt32());
        await stopping;
        await sse.DisposeAsync();
    }

    [Fact]
    public async Task The_session_token_travels_in_a_header_and_no_request_url_carries_it()
    {
        await using var server = await CollabServer.StartAsync();
        await using var sse = await SseStream.OpenAsync(server);
        Assert.Matches("^[A-Za-z0-9_-]{20,}$", sse.SessionToken);
        Assert.Equal("/sse", sse.PostUrl);
        Assert.Equal(HttpStatusCode.Accepted, await sse.PostAsync("""{"type":"hello","clientId":"header-client"}"""));
        await sse.NextOfAsync("welcome");
        Assert.Equal(HttpStatusCode.Accepted, await sse.PostAsync("""{"type":"join","doc":"sse-header"}"""));
        await sse.NextOfAsync("joined");

        Assert.Equal(3, sse.RequestUris.Count);
        Assert.All(sse.RequestUris, uri => Assert.DoesNotContain(sse.SessionToken, uri.ToString(), StringComparison.Ordinal));
        // The old form, the token as a path segment, is not a route any more.
        using var http = server.Http();
        using var old = await http.PostAsync($"/sse/{sse.SessionToken}", new StringContent("""{"type":"ping"}"""));
        Assert.Equal(HttpStatusCode.NotFound, old.StatusCode);
    }
}
