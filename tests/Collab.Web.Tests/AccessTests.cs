using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

/// <summary>One server in Links mode (share links signed with a test key; an operator key), shared by a test class.</summary>
public sealed class LinksServer : IAsyncLifetime
{
    public const string OperatorKey = "test-operator-key-0123456789";

    public CollabServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await CollabServer.StartAsync(new Dictionary<string, string>
    {
        ["Collab:Access:Mode"] = "Links",
        ["Collab:Access:SigningKey"] = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 7)).ToArray()),
        ["Collab:Operations:OperatorKey"] = OperatorKey,
    });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>The links of one document, as <c>POST /api/docs</c> returns them.</summary>
public sealed record DocLinks(string Doc, string Owner, string Edit, string View);

/// <summary>
/// Links mode end to end: nobody without a valid link reads, lists or changes a document over the WebSocket, the SSE
/// fallback or HTTP; a view link reads but never writes; rotating a kind of link cuts the sessions that used it.
/// </summary>
public sealed class AccessTests(LinksServer fixture, ITestOutputHelper output) : IClassFixture<LinksServer>
{
    private CollabServer Server => fixture.Server;

    [Fact]
    public async Task Creating_a_document_returns_its_three_links_and_a_taken_name_is_refused()
    {
        var links = await CreateAsync("named-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.StartsWith("o1.", links.Owner, StringComparison.Ordinal);
        Assert.StartsWith("e1.", links.Edit, StringComparison.Ordinal);
        Assert.StartsWith("v1.", links.View, StringComparison.Ordinal);

        using var http = Server.Http();
        using var again = await http.PostAsJsonAsync("/api/docs", new { doc = links.Doc });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);

        // Without a name the server picks one nobody can guess.
        var generated = await CreateAsync(null);
        Assert.Matches("^[a-z2-7]{16}$", generated.Doc);
    }

    [Fact]
    public async Task Without_a_valid_link_a_session_cannot_join_by_websocket()
    {
        var links = await CreateAsync(null);
        var other = await CreateAsync(null);
        var forged = "e1." + new string('A', 43);

        foreach (var token in new string?[] { null, forged, other.Edit, other.Owner, links.Edit[..^2] + "xx" })
        {
            await using var client = await ConnectAsync(token);
            await client.SendAsync(new { type = "join", doc = links.Doc });
            var error = await client.ExpectAsync("error");
            Assert.Equal("unauthorized", error.GetProperty("code").GetString());
            Assert.Equal(links.Doc, error.GetProperty("doc").GetString());
            await client.SendAsync(new { type = "op", doc = links.Doc, rev = 0, seq = 1, op = new object[] { "x" } });
            Assert.Equal("not_joined", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        }

        // A document that does not exist answers exactly like one you have no link for: names cannot be probed.
        await using var prober = await ConnectAsync(null);
        await prober.SendAsync(new { type = "join", doc = "no-such-" + Guid.NewGuid().ToString("N") });
        var unknown = await prober.ExpectAsync("error");
        Assert.Equal("unauthorized", unknown.GetProperty("code").GetString());
        Assert.StartsWith("no credential for", unknown.GetProperty("message").GetString(), StringComparison.Ordinal);

        Assert.Equal(0, (await ReadAsync(links.Doc, links.Owner)).GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task An_edit_link_edits_and_a_view_link_reads_with_presence_but_every_write_is_refused()
    {
        var links = await CreateAsync(null);
        await using var editor = await ConnectAsync(links.Edit);
        var joined = await editor.JoinAsync(links.Doc);
        Assert.Equal("edit", joined.GetProperty("access").GetString());
        await editor.SendAsync(new { type = "op", doc = links.Doc, rev = 0, seq = 1, op = new object[] { "hello" } });
        Assert.Equal(1, (await editor.ExpectAsync("ack")).GetProperty("rev").GetInt64());

        await using var viewer = await ConnectAsync(links.View);
        var viewed = await viewer.JoinAsync(links.Doc);
        Assert.Equal(("view", "hello"), (viewed.GetProperty("access").GetString(), viewed.GetProperty("text").GetString()));

        // Every frame a read-only session can send: ops are refused whatever the base or seq; the rest works.
        foreach (var (rev, seq) in new[] { (1L, 1L), (0L, 2L), (1L, 1L << 52) })
        {
            await viewer.SendAsync(new { type = "op", doc = links.Doc, rev, seq, op = new object[] { (int)rev, "!" } });
            var refused = await viewer.ExpectAsync("error");
            Assert.Equal("forbidden", refused.GetProperty("code").GetString());
            Assert.Contains("view-only", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        // Asking to join without readOnly does not lift it.
        await viewer.SendAsync(new { type = "join", doc = links.Doc, readOnly = false });
        Assert.Equal("view", (await viewer.ExpectAsync("joined")).GetProperty("access").GetString());
        await viewer.SendAsync(new { type = "op", doc = links.Doc, rev = 1, seq = 3, op = new object[] { 5, "!" } });
        Assert.Equal("forbidden", (await viewer.ExpectAsync("error")).GetProperty("code").GetString());
        await viewer.SendAsync(new { type = "presence", doc = links.Doc, rev = 1, anchor = 2, head = 4 });
        var seen = await editor.WaitForAsync("presence");
        Assert.Equal(2, seen.GetProperty("anchor").GetInt32());
        await viewer.SendAsync(new { type = "ping", t = 1 });
        Assert.Equal("pong", (await viewer.ExpectAsync("pong")).GetProperty("type").GetString());
        await viewer.SendAsync(new { type = "leave", doc = links.Doc });
        await viewer.ExpectAsync("left");

        Assert.Equal("hello", (await ReadAsync(links.Doc, links.View)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_link_sent_in_an_auth_frame_after_hello_works_like_one_in_hello()
    {
        var links = await CreateAsync(null);
        await using var client = await ConnectAsync(null);
        await client.SendAsync(new { type = "join", doc = links.Doc });
        Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());

        await client.SendAsync(new { type = "auth", token = links.Edit });
        await client.ExpectAsync("authed");
        Assert.Equal("edit", (await client.JoinAsync(links.Doc)).GetProperty("access").GetString());

        await client.SendAsync(new { type = "auth", token = "has space" });
        Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        await client.SendAsync(new { type = "auth" });
        Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Rotating_the_edit_link_closes_its_sessions_with_4403_keeps_viewers_and_the_old_link_stops_working()
    {
        var links = await CreateAsync(null);
        await using var editor = await ConnectAsync(links.Edit);
        await editor.JoinAsync(links.Doc);
        await using var viewer = await ConnectAsync(links.View);
        await viewer.JoinAsync(links.Doc);
        await using var owner = await ConnectAsync(links.Owner);
        Assert.Equal("owner", (await owner.JoinAsync(links.Doc)).GetProperty("access").GetString());

        var clock = Stopwatch.StartNew();
        var rotated = await RotateAsync(links.Doc, "edit", links.Owner);
        await editor.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        output.WriteLine($"rotation to 4403 close of the editor's session: {clock.ElapsedMilliseconds} ms");
        Report.Figure("link rotation", $"edit link rotated over HTTP: the editor's WebSocket closed with 4403 after {clock.ElapsedMilliseconds} ms (one front end)");
        Assert.Equal((WebSocketCloseStatus)4403, editor.CloseStatus);

        Assert.Equal(links.Owner, rotated.Owner);
        Assert.Equal(links.View, rotated.View);
        Assert.StartsWith("e2.", rotated.Edit, StringComparison.Ordinal);
        // Viewers and the owner keep their sessions.
        await owner.SendAsync(new { type = "op", doc = links.Doc, rev = 0, seq = 1, op = new object[] { "still here" } });
        await owner.ExpectAsync("ack");
        Assert.Equal("still here", (await viewer.WaitForAsync("op")).GetProperty("op")[0].GetString());

        await using var late = await ConnectAsync(links.Edit);
        await late.SendAsync(new { type = "join", doc = links.Doc });
        var refused = await late.ExpectAsync("error");
        Assert.Equal("unauthorized", refused.GetProperty("code").GetString());
        Assert.Contains("revoked", refused.GetProperty("message").GetString(), StringComparison.Ordinal);

        await using var renewed = await ConnectAsync(rotated.Edit);
        Assert.Equal("edit", (await renewed.JoinAsync(links.Doc)).GetProperty("access").GetString());
    }

    [Fact]
    public async Task Over_http_reads_need_a_link_of_the_document_and_links_need_its_owner()
    {
        var links = await CreateAsync(null);
        var other = await CreateAsync(null);
        using var http = Server.Http();

        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{links.Doc}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{links.Doc}", other.Owner)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{links.Doc}/status", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, "/api/docs/no-such-doc", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/api/docs/{links.Doc}", links.View)).StatusCode);
        using (var status = await GetAsync(http, $"/api/docs/{links.Doc}/status", links.Edit))
        {
            Assert.Equal(HttpStatusCode.OK, status.StatusCode);
            Assert.Equal(JsonValueKind.Null, (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("silo").ValueKind);
        }
        using (var status = await GetAsync(http, $"/api/docs/{links.Doc}/status", LinksServer.OperatorKey))
            Assert.Equal(JsonValueKind.String, (await status.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("silo").ValueKind);

        Assert.Equal(HttpStatusCode.Forbidden, (await GetAsync(http, $"/api/docs/{links.Doc}/links", links.Edit)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await PostAsync(http, $"/api/docs/{links.Doc}/links/edit/rotate", links.View)).StatusCode);
        using var listed = await GetAsync(http, $"/api/docs/{links.Doc}/links", links.Owner);
        Assert.Equal(links, await listed.Content.ReadFromJsonAsync<DocLinks>(Json));
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(http, $"/api/docs/{links.Doc}/links/admin/rotate", links.Owner)).StatusCode);

        // The operator key reads and manages every document.
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/api/docs/{links.Doc}/links", LinksServer.OperatorKey)).StatusCode);

        // A credential in the query string is ignored: it would end up in request logs.
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{links.Doc}?k={links.Owner}", null)).StatusCode);

        var rotated = await RotateAsync(links.Doc, "view", links.Owner);
        using var revoked = await GetAsync(http, $"/api/docs/{links.Doc}", links.View);
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("revoked", await revoked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/api/docs/{links.Doc}", rotated.View)).StatusCode);
    }

    [Fact]
    public async Task The_sse_fallback_enforces_the_same_rules()
    {
        var links = await CreateAsync(null);
        await using var sse = await SseStream.OpenAsync(Server);
        await sse.PostAsync("{\"type\":\"hello\",\"clientId\":\"sse-1\"}");
        await sse.NextOfAsync("welcome");

        await sse.PostAsync($"{{\"type\":\"join\",\"doc\":\"{links.Doc}\"}}");
        Assert.Equal("unauthorized", (await sse.NextOfAsync("error")).GetProperty("code").GetString());

        await sse.PostAsync($"{{\"type\":\"auth\",\"token\":\"{links.View}\"}}\n{{\"type\":\"join\",\"doc\":\"{links.Doc}\"}}");
        await sse.NextOfAsync("authed");
        Assert.Equal("view", (await sse.NextOfAsync("joined")).GetProperty("access").GetString());
        await sse.PostAsync($"{{\"type\":\"op\",\"doc\":\"{links.Doc}\",\"rev\":0,\"seq\":1,\"op\":[\"x\"]}}");
        Assert.Equal("forbidden", (await sse.NextOfAsync("error")).GetProperty("code").GetString());

        await RotateAsync(links.Doc, "view", links.Owner);
        var close = await sse.NextOfAsync("close", TimeSpan.FromSeconds(5));
        Assert.Equal(4403, close.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task A_document_written_in_open_mode_is_closed_after_the_switch_until_the_operator_claims_it()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "collab-web-tests", Guid.NewGuid().ToString("N"));
        await using (var open = await CollabServer.StartAsync(dataPath: dataPath))
        {
            await using var writer = await open.ConnectAsync();
            await writer.JoinAsync("legacy");
            await writer.SendAsync(new { type = "op", doc = "legacy", rev = 0, seq = 1, op = new object[] { "from open mode" } });
            await writer.ExpectAsync("ack");
        }

        await using var links = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:Access:Mode"] = "Links",
            ["Collab:Access:SigningKey"] = Convert.ToBase64String(new byte[32]),
            ["Collab:Operations:OperatorKey"] = LinksServer.OperatorKey,
        }, dataPath);
        using var http = links.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, "/api/docs/legacy", null)).StatusCode);
        using (var claim = await http.PostAsJsonAsync("/api/docs", new { doc = "legacy" }))
            Assert.Equal(HttpStatusCode.Conflict, claim.StatusCode);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/docs") { Content = JsonContent.Create(new { doc = "legacy" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", LinksServer.OperatorKey);
        using var claimed = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, claimed.StatusCode);
        var granted = (await claimed.Content.ReadFromJsonAsync<DocLinks>(Json))!;

        using var read = await GetAsync(http, "/api/docs/legacy", granted.View);
        Assert.Equal("from open mode", (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("text").GetString());
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private async Task<DocLinks> CreateAsync(string? doc)
    {
        using var http = Server.Http();
        using var response = doc is null ? await http.PostAsync("/api/docs", null) : await http.PostAsJsonAsync("/api/docs", new { doc });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DocLinks>(Json))!;
    }

    private async Task<DocLinks> RotateAsync(string doc, string kind, string owner)
    {
        using var http = Server.Http();
        using var response = await PostAsync(http, $"/api/docs/{doc}/links/{kind}/rotate", owner);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<DocLinks>(Json))!;
    }

    private async Task<JsonElement> ReadAsync(string doc, string token)
    {
        using var http = Server.Http();
        using var response = await GetAsync(http, $"/api/docs/{doc}", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string? token) => SendAsync(http, HttpMethod.Get, path, token);

    private static Task<HttpResponseMessage> PostAsync(HttpClient http, string path, string? token) => SendAsync(http, HttpMethod.Post, path, token);

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? token)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    private async Task<TestClient> ConnectAsync(string? token)
    {
        var clientId = "c" + Guid.NewGuid().ToString("N")[..12];
        var client = await TestClient.OpenAsync(Server.WebSocketUri, clientId);
        await client.SendAsync(token is null ? new { type = "hello", clientId } : new { type = "hello", clientId, token });
        await client.ExpectAsync("welcome");
        return client;
    }
}
