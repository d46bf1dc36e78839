using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Xunit;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>Every row of the collab.v1 table, over real sockets to a real Kestrel + silo + SQLite.</summary>
public sealed class ProtocolTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private readonly CollabServer server = fixture.Server;

    private static string NewDoc() => "doc-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task The_handshake_selects_collab_v1()
    {
        var (status, response) = await RawHttp.UpgradeAsync(server.BaseUri, "other.v9, collab.v1", origin: null);
        Assert.Equal(101, status);
        Assert.Contains("Sec-WebSocket-Protocol: collab.v1", response, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_handshake_without_a_supported_subprotocol_gets_400_naming_collab_v1()
    {
        var (none, noneBody) = await RawHttp.UpgradeAsync(server.BaseUri, protocol: null, origin: null);
        var (other, otherBody) = await RawHttp.UpgradeAsync(server.BaseUri, "chat.v2", origin: null);
        Assert.Equal((400, 400), (none, other));
        Assert.Contains("supported: collab.v1", noneBody, StringComparison.Ordinal);
        Assert.Contains("supported: collab.v1", otherBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_foreign_origin_gets_403_and_the_same_origin_is_accepted()
    {
        var (foreign, _) = await RawHttp.UpgradeAsync(server.BaseUri, "collab.v1", "https://evil.example");
        var (same, _) = await RawHttp.UpgradeAsync(server.BaseUri, "collab.v1", $"http://{server.BaseUri.Authority}");
        Assert.Equal(403, foreign);
        Assert.Equal(101, same);
    }

    [Fact]
    public async Task The_same_host_under_another_scheme_is_another_origin_unless_a_trusted_proxy_says_so()
    {
        var (https, _) = await RawHttp.UpgradeAsync(server.BaseUri, "collab.v1", $"https://{server.BaseUri.Authority}");
        Assert.Equal(403, https);
        // From an untrusted peer, X-Forwarded-Proto changes nothing.
        var (forged, _) = await RawHttp.UpgradeAsync(server.BaseUri, "collab.v1", $"https://{server.BaseUri.Authority}", "X-Forwarded-Proto: https\r\n");
        Assert.Equal(403, forged);

        await using var behindProxy = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:TrustedProxies:0"] = "127.0.0.1" });
        var (proxied, _) = await RawHttp.UpgradeAsync(behindProxy.BaseUri, "collab.v1", $"https://{behindProxy.BaseUri.Authority}", "X-Forwarded-Proto: https\r\n");
        Assert.Equal(101, proxied);
        var (plain, _) = await RawHttp.UpgradeAsync(behindProxy.BaseUri, "collab.v1", $"http://{behindProxy.BaseUri.Authority}", "X-Forwarded-Proto: https\r\n");
        Assert.Equal(403, plain);
    }

    [Fact]
    public async Task A_plain_GET_of_ws_is_a_bad_request()
    {
        using var http = server.Http();
        var response = await http.GetAsync("/ws");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Hello_is_answered_with_welcome()
    {
        await using var client = await TestClient.OpenAsync(server.WebSocketUri, "hello-client");
        await client.SendAsync(new { type = "hello", clientId = "hello-client", user = new { name = "Ada", color = "#ff0000" } });
        var welcome = await client.ExpectAsync("welcome");
        Assert.False(string.IsNullOrEmpty(welcome.GetProperty("sessionId").GetString()));
        Assert.InRange(welcome.GetProperty("heartbeatMs").GetInt32(), 1000, 30_000);
        Assert.Equal(1024 * 1024, welcome.GetProperty("maxMessageBytes").GetInt32());
        Assert.Matches("^[A-Za-z0-9_-]{22}$", welcome.GetProperty("author").GetString());
        Assert.DoesNotContain("hello-client", welcome.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Joining_a_new_document_creates_it_empty_at_revision_zero()
    {
        await using var client = await server.ConnectAsync();
        var doc = NewDoc();
        var joined = await client.JoinAsync(doc);
        Assert.Equal(doc, joined.GetProperty("doc").GetString());
        Assert.Equal(0, joined.GetProperty("rev").GetInt64());
        Assert.Equal("", joined.GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_op_is_acked_to_its_sender_and_broadcast_to_everyone_else()
    {
        var doc = NewDoc();
        await using var alice = await server.ConnectAsync("alice-op");
        await using var bob = await server.ConnectAsync("bob-op");
        await alice.JoinAsync(doc);
        await bob.JoinAsync(doc);

        await alice.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "héllo 😀" } });
        var ack = await alice.ExpectAsync("ack");
        Assert.Equal((doc, 1L, 1L), (ack.GetProperty("doc").GetString(), ack.GetProperty("seq").GetInt64(), ack.GetProperty("rev").GetInt64()));
        var op = await bob.ExpectAsync("op");
        Assert.Equal(doc, op.GetProperty("doc").GetString());
        Assert.Equal(1, op.GetProperty("rev").GetInt64());
        Assert.Equal(alice.Author, op.GetProperty("author").GetString());
        Assert.False(op.TryGetProperty("clientId", out _));
        Assert.Equal(1, op.GetProperty("seq").GetInt64());
        Assert.Equal("héllo 😀", Assert.Single(op.GetProperty("op").EnumerateArray()).GetString());

        await using var late = await server.ConnectAsync();
        var joined = await late.JoinAsync(doc);
        Assert.Equal((1L, "héllo 😀"), (joined.GetProperty("rev").GetInt64(), joined.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task Joining_with_a_revision_returns_the_ops_since_then()
    {
        var doc = NewDoc();
        await using var writer = await server.ConnectAsync("writer-since");
        await writer.JoinAsync(doc);
        var text = "";
        for (var i = 0; i < 4; i++)
        {
            await writer.SendAsync(new { type = "op", doc, rev = i, seq = i + 1, op = text.Length == 0 ? new object[] { $"{i}" } : [text.Length, $"{i}"] });
            await writer.ExpectAsync("ack");
            text += i;
        }
        await using var reader = await server.ConnectAsync();
        var joined = await reader.JoinAsync(doc, rev: 2);
        Assert.Equal(4, joined.GetProperty("rev").GetInt64());
        Assert.Equal(2, joined.GetProperty("since").GetInt64());
        Assert.False(joined.TryGetProperty("text", out _));
        var ops = joined.GetProperty("ops").EnumerateArray().ToList();
        Assert.Equal([3L, 4L], ops.Select(o => o.GetProperty("rev").GetInt64()));
        Assert.All(ops, o => Assert.Equal(writer.Author, o.GetProperty("author").GetString()));
        Assert.All(ops, o => Assert.False(o.TryGetProperty("clientId", out _)));
        Assert.Equal([3L, 4L], ops.Select(o => o.GetProperty("seq").GetInt64()));
        Assert.Equal("[2,\"2\"]", ops[0].GetProperty("op").GetRawText());
    }

    [Fact]
    public async Task Presence_reaches_the_others_and_is_removed_on_leave_and_on_disconnect()
    {
        var doc = NewDoc();
        await using var alice = await server.ConnectAsync("alice-p", "Alice");
        var bob = await server.ConnectAsync("bob-p", "Bob");
        await alice.JoinAsync(doc);
        await bob.JoinAsync(doc);

        await bob.SendAsync(new { type = "presence", doc, rev = 0, anchor = 0, head = 0 });
        var seen = await alice.ExpectAsync("presence");
        Assert.Equal(bob.SessionId, seen.GetProperty("sessionId").GetString());
        Assert.Equal(bob.Author, seen.GetProperty("author").GetString());
        Assert.False(seen.TryGetProperty("clientId", out _));
        Assert.Equal("Bob", seen.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal(0, seen.GetProperty("head").GetInt32());

        // A late joiner is told about the presences already there, after its joined frame.
        await using var carol = await server.ConnectAsync("carol-p");
        await carol.JoinAsync(doc);
        var current = await carol.ExpectAsync("presence");
        Assert.Equal(bob.SessionId, current.GetProperty("sessionId").GetString());

        await bob.SendAsync(new { type = "leave", doc });
        Assert.Equal(doc, (await bob.ExpectAsync("left")).GetProperty("doc").GetString());
        var gone = await alice.ExpectAsync("presence");
        Assert.Equal((bob.SessionId, true), (gone.GetProperty("sessionId").GetString(), gone.GetProperty("left").GetBoolean()));

        await bob.JoinAsync(doc);
        await bob.SendAsync(new { type = "presence", doc, rev = 0, anchor = 0, head = 0 });
        await alice.WaitForAsync("presence", p => !p.TryGetProperty("left", out _));
        await bob.DisposeAsync();
        var dropped = await alice.WaitForAsync("presence", p => p.TryGetProperty("left", out _));
        Assert.Equal(bob.SessionId, dropped.GetProperty("sessionId").GetString());
    }

    [Fact]
    public async Task Ping_is_answered_with_pong_echoing_t()
    {
        await using var client = await server.ConnectAsync();
        await client.SendRawAsync("""{"type":"ping","t":1732650000123}""");
        Assert.Equal(1732650000123, (await client.ExpectAsync("pong")).GetProperty("t").GetInt64());
        await client.SendRawAsync("""{"type":"ping","t":"x1"}""");
        Assert.Equal("x1", (await client.ExpectAsync("pong")).GetProperty("t").GetString());
        await client.SendRawAsync("""{"type":"ping"}""");
        Assert.False((await client.ExpectAsync("pong")).TryGetProperty("t", out _));
    }

    [Theory]
    [InlineData("{not json", "bad_json")]
    [InlineData("", "bad_json")]
    [InlineData("{\"type\":\"join\",\"doc\":\"a\\ud83d\"}", "bad_request")]
    [InlineData("{\"type\":\"hello\",\"clientId\":\"x\",\"user\":{\"name\":\"\\udc00\"}}", "bad_request")]
    [InlineData("{\"type\":\"ping\",\"t\":\"\\ud800\"}", "bad_request")]
    [InlineData("{\"type\":\"ping\",\"live\":\"yes\"}", "bad_request")]
    [InlineData("[1,2,3]", "bad_json")]
    [InlineData("42", "bad_json")]
    [InlineData("{\"type\":\"hello\"} {}", "bad_json")]
    [InlineData("{\"type\":\"dance\"}", "unknown_type")]
    [InlineData("{\"rev\":1}", "bad_request")]
    [InlineData("{\"type\":7}", "bad_request")]
    [InlineData("{\"type\":\"join\",\"doc\":\"has space\"}", "bad_request")]
    [InlineData("{\"type\":\"join\",\"doc\":\"..\"}", "bad_request")]
    [InlineData("{\"type\":\"join\",\"doc\":\".\"}", "bad_request")]
    [InlineData("{\"type\":\"hello\",\"clientId\":\"x\",\"user\":{\"color\":\"red;background:url(//x.co/a)\"}}", "bad_request")]
    [InlineData("{\"type\":\"hello\",\"clientId\":\"x\",\"user\":{\"color\":\"red\"}}", "bad_request")]
    [InlineData("{\"type\":\"hello\",\"clientId\":\"x\",\"user\":{\"color\":\"#12345g\"}}", "bad_request")]
    [InlineData("{\"type\":\"hello\",\"clientId\":\"x\",\"user\":{\"color\":\"#1234567\"}}", "bad_request")]
    [InlineData("{\"type\":\"join\",\"doc\":\"ok\",\"rev\":-1}", "bad_request")]
    [InlineData("{\"type\":\"join\",\"doc\":\"ok\",\"rev\":1.5}", "bad_request")]
    [InlineData("{\"type\":\"op\",\"doc\":\"never-joined\",\"rev\":0,\"seq\":1,\"op\":[\"x\"]}", "not_joined")]
    [InlineData("{\"type\":\"leave\",\"doc\":\"never-joined\"}", "not_joined")]
    [InlineData("{\"type\":\"presence\",\"doc\":\"never-joined\",\"rev\":0,\"anchor\":0,\"head\":0}", "not_joined")]
    public async Task Malformed_frames_get_their_error_code_and_the_session_goes_on(string frame, string code)
    {
        await using var client = await server.ConnectAsync();
        await client.SendRawAsync(frame);
        var error = await client.ExpectAsync("error");
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        Assert.False(error.TryGetProperty("fatal", out _));
        await client.SendRawAsync("""{"type":"ping","t":1}""");
        await client.ExpectAsync("pong");
    }

    [Fact]
    public async Task Frames_before_hello_and_a_second_hello_are_bad_requests()
    {
        await using var client = await TestClient.OpenAsync(server.WebSocketUri, "early");
        await client.SendAsync(new { type = "join", doc = "x" });
        Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        await client.SendAsync(new { type = "hello", clientId = "not valid!" });
        Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        await client.SendAsync(new { type = "hello", clientId = "early" });
        await client.ExpectAsync("welcome");
        await client.SendAsync(new { type = "hello", clientId = "early" });
        Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("[\"x\",0]")]
    [InlineData("[\"\"]")]
    [InlineData("[true]")]
    [InlineData("\"abc\"")]
    [InlineData("[\"\\ud800\"]")]
    [InlineData("[5,\"x\"]")]
    [InlineData("[-9]")]
    [InlineData("[2,\"x\",2]")]
    public async Task Invalid_ops_get_bad_op_with_doc_and_seq_and_change_nothing(string op)
    {
        var doc = NewDoc();
        await using var client = await server.ConnectAsync();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "a😀b" } });
        await client.ExpectAsync("ack");

        await client.SendRawAsync($$"""{"type":"op","doc":"{{doc}}","rev":1,"seq":2,"op":{{op}}}""");
        var error = await client.ExpectAsync("error");
        Assert.Equal(("bad_op", doc, 2L), (error.GetProperty("code").GetString(), error.GetProperty("doc").GetString(), error.GetProperty("seq").GetInt64()));
        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal((1L, "a😀b"), (state.GetProperty("rev").GetInt64(), state.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task An_op_based_on_a_revision_the_document_has_not_reached_is_a_bad_request()
    {
        var doc = NewDoc();
        await using var client = await server.ConnectAsync();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 5, seq = 1, op = new object[] { "x" } });
        var error = await client.ExpectAsync("error");
        Assert.Equal(("bad_request", 1L), (error.GetProperty("code").GetString(), error.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task A_read_only_session_may_not_edit()
    {
        var doc = NewDoc();
        await using var viewer = await server.ConnectAsync();
        await viewer.SendAsync(new { type = "join", doc, readOnly = true });
        await viewer.ExpectAsync("joined");
        await viewer.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "x" } });
        var error = await viewer.ExpectAsync("error");
        Assert.Equal(("forbidden", 1L), (error.GetProperty("code").GetString(), error.GetProperty("seq").GetInt64()));

        await using var editor = await server.ConnectAsync();
        await editor.JoinAsync(doc);
        await editor.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "y" } });
        Assert.Equal(1, (await viewer.ExpectAsync("op")).GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task A_binary_frame_closes_the_socket_with_1002()
    {
        await using var client = await server.ConnectAsync();
        await client.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, true, CancellationToken.None);
        var error = await client.ExpectAsync("error");
        Assert.True(error.GetProperty("fatal").GetBoolean());
        await client.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketCloseStatus.ProtocolError, client.CloseStatus);
    }

    [Fact]
    public async Task Garbage_from_one_session_does_not_disturb_another_or_the_document()
    {
        var doc = NewDoc();
        await using var honest = await server.ConnectAsync();
        await using var hostile = await server.ConnectAsync();
        await honest.JoinAsync(doc);
        await hostile.JoinAsync(doc);
        string[] garbage =
        [
            "{", "null", "{\"type\":\"op\",\"doc\":\"" + doc + "\",\"rev\":0,\"seq\":1,\"op\":[99]}",
            "{\"type\":\"op\",\"doc\":\"" + doc + "\",\"rev\":-5,\"seq\":1,\"op\":[\"x\"]}",
            "{\"type\":\"op\",\"doc\":\"" + doc + "\",\"rev\":0,\"seq\":1e400,\"op\":[\"x\"]}",
            "{\"type\":\"presence\",\"doc\":\"" + doc + "\",\"rev\":0,\"anchor\":-1,\"head\":0}",
            "{\"type\":\"op\",\"doc\":\"" + doc + "\",\"rev\":0,\"seq\":1,\"op\":[\"\\udc00x\"]}",
        ];
        foreach (var frame in garbage) await hostile.SendRawAsync(frame);
        for (var i = 0; i < garbage.Length; i++) await hostile.ExpectAsync("error");

        await honest.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "fine" } });
        Assert.Equal(1, (await honest.ExpectAsync("ack")).GetProperty("rev").GetInt64());
        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal((1L, "fine"), (state.GetProperty("rev").GetInt64(), state.GetProperty("text").GetString()));
    }

    [Fact]
    public async Task The_http_surface_reads_documents_and_reports_health()
    {
        var doc = NewDoc();
        await using var client = await server.ConnectAsync();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "via http" } });
        await client.ExpectAsync("ack");

        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal((doc, 1L, "via http"), (state.GetProperty("doc").GetString(), state.GetProperty("rev").GetInt64(), state.GetProperty("text").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("/api/docs/bad%20id")).StatusCode);
        var status = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}/status");
        Assert.Equal(1, status.GetProperty("rev").GetInt64());
        Assert.Equal(0, status.GetProperty("pendingOps").GetInt32());
        Assert.Equal(1, status.GetProperty("subscribedHosts").GetInt32());
        Assert.StartsWith("S127.0.0.1:", status.GetProperty("silo").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        var ready = await http.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("store reachable", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("collab.v1", await http.GetStringAsync("/"), StringComparison.Ordinal);
    }
}
