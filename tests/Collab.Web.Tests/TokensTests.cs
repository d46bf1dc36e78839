using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Collab.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

/// <summary>Mints the JWTs a host application would (HS256 with the key Collab is configured with).</summary>
public static class TestTokens
{
    public const string Issuer = "https://login.example.test";
    public const string Audience = "collab-tests";
    public static readonly byte[] Key = Enumerable.Range(0, 32).Select(i => (byte)(200 - i)).ToArray();

    public static string Mint(string sub, string[] docs, TimeSpan? lifetime = null, string? jti = null, string? name = null, string? audience = null,
        string? issuer = null, byte[]? key = null, DateTime? issuedAt = null)
    {
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = sub, ["docs"] = docs };
        if (jti is not null) claims["jti"] = jti;
        if (name is not null) claims["name"] = name;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience ?? Audience,
            IssuedAt = issuedAt ?? now,
            NotBefore = (issuedAt ?? now).AddSeconds(-5),
            Expires = (issuedAt ?? now) + (lifetime ?? TimeSpan.FromMinutes(10)),
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key ?? Key), SecurityAlgorithms.HmacSha256),
        });
    }
}

/// <summary>A server in Tokens mode with the test key, no clock skew (expiry is tested to the second) and an operator key.</summary>
public sealed class TokensServer : IAsyncLifetime
{
    public const string OperatorKey = "tokens-operator-key-0123456789";

    public CollabServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await CollabServer.StartAsync(new Dictionary<string, string>
    {
        ["Collab:Access:Mode"] = "Tokens",
        ["Collab:Access:Tokens:Issuer"] = TestTokens.Issuer,
        ["Collab:Access:Tokens:Audience"] = TestTokens.Audience,
        ["Collab:Access:Tokens:HmacKey"] = Convert.ToBase64String(TestTokens.Key),
        ["Collab:Access:Tokens:ClockSkewSeconds"] = "0",
        ["Collab:Operations:OperatorKey"] = OperatorKey,
    });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Tokens mode end to end: who may join and write is what the token's claims say, identities come from the token,
/// tokens expire and refresh mid-session, and revocations by token or by user cut live sessions within seconds.
/// </summary>
public sealed class TokensTests(TokensServer fixture, ITestOutputHelper output) : IClassFixture<TokensServer>
{
    private CollabServer Server => fixture.Server;

    private static string Doc(string prefix = "doc-") => prefix + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_bad_token_in_hello_gets_unauthorized_and_no_welcome()
    {
        var doc = Doc();
        var cases = new (string Token, string Says)[]
        {
            (TestTokens.Mint("ada", [$"write:{doc}"], key: Enumerable.Range(1, 32).Select(i => (byte)i).ToArray()), "signature"),
            (TestTokens.Mint("ada", [$"write:{doc}"], audience: "someone-else"), "another audience"),
            (TestTokens.Mint("ada", [$"write:{doc}"], issuer: "https://evil.example"), "issuer"),
            (TestTokens.Mint("ada", [$"write:{doc}"], lifetime: TimeSpan.FromSeconds(3), issuedAt: DateTime.UtcNow.AddMinutes(-1)), "expired"),
            ("not.a.jwt", "refused"),
            (TestTokens.Mint("ada", [$"write:{doc}"])[..^3] + "abc", "signature"),
        };
        foreach (var (token, says) in cases)
        {
            var clientId = "c" + Guid.NewGuid().ToString("N")[..8];
            await using var client = await TestClient.OpenAsync(Server.WebSocketUri, clientId);
            await client.SendAsync(new { type = "hello", clientId, token });
            var error = await client.ExpectAsync("error");
            Assert.Equal("unauthorized", error.GetProperty("code").GetString());
            Assert.Contains(says, error.GetProperty("message").GetString(), StringComparison.Ordinal);
            // Still not signed in: nothing can be joined.
            await client.SendAsync(new { type = "join", doc });
            Assert.Equal("bad_request", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task The_documents_claim_decides_exact_ids_prefixes_and_read_write_owner()
    {
        var team = "team" + Guid.NewGuid().ToString("N")[..6] + "-";
        var exact = Doc();
        await using var client = await ConnectAsync(TestTokens.Mint("ada", [$"write:{exact}", $"read:{team}*", "frobnicate:everything", "write:bad*pattern"]));

        Assert.Equal("edit", (await client.JoinAsync(exact)).GetProperty("access").GetString());
        Assert.Equal("view", (await client.JoinAsync(team + "plans")).GetProperty("access").GetString());
        await client.SendAsync(new { type = "op", doc = team + "plans", rev = 0, seq = 1, op = new object[] { "x" } });
        Assert.Equal("forbidden", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        foreach (var denied in new[] { exact + "x", team[..^1], "everything", "badXpattern" })
        {
            await client.SendAsync(new { type = "join", doc = denied });
            var error = await client.ExpectAsync("error");
            Assert.Equal("unauthorized", error.GetProperty("code").GetString());
            Assert.Contains("does not grant", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        await using var none = await ConnectAsync(null);
        await none.SendAsync(new { type = "join", doc = exact });
        Assert.Contains("sign in first", (await none.ExpectAsync("error")).GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Names_come_from_the_token_and_two_users_with_one_client_id_never_collide()
    {
        var doc = Doc();
        const string clientId = "shared-tab-id";
        await using var ada = await ConnectAsync(TestTokens.Mint("ada", [$"write:{doc}"], name: "Ada L."), clientId, claimedName: "Admin");
        await using var eve = await ConnectAsync(TestTokens.Mint("eve", [$"write:{doc}"], name: "Eve"), clientId, claimedName: "Ada L.");
        Assert.NotEqual(ada.Author, eve.Author);
        await ada.JoinAsync(doc);
        await eve.JoinAsync(doc);

        await eve.SendAsync(new { type = "presence", doc, rev = 0, anchor = 0, head = 0 });
        var seen = await ada.WaitForAsync("presence");
        Assert.Equal("Eve", seen.GetProperty("user").GetProperty("name").GetString());

        // Same clientId, same seq: Eve's op is not taken for a resend of Ada's, nor the other way round.
        await ada.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "ada " } });
        Assert.Equal(1, (await ada.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        await eve.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "eve " } });
        Assert.Equal(2, (await eve.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        Assert.Equal(2, (await ReadAsync(doc, TestTokens.Mint("ada", [$"read:{doc}"]))).GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task A_token_expires_mid_session_with_4401_unless_refreshed_over_auth()
    {
        var doc = Doc();
        await using var refreshed = await ConnectAsync(TestTokens.Mint("ada", [$"write:{doc}"], lifetime: TimeSpan.FromSeconds(3)));
        await refreshed.JoinAsync(doc);
        await using var lapsed = await ConnectAsync(TestTokens.Mint("bob", [$"write:{doc}"], lifetime: TimeSpan.FromSeconds(3)));
        await lapsed.JoinAsync(doc);

        await refreshed.SendAsync(new { type = "auth", token = TestTokens.Mint("ada", [$"write:{doc}"], lifetime: TimeSpan.FromMinutes(5)) });
        Assert.Equal(refreshed.Author, (await refreshed.ExpectAsync("authed")).GetProperty("author").GetString());
        await refreshed.SendAsync(new { type = "auth", token = TestTokens.Mint("mallory", [$"write:{doc}"]) });
        Assert.Equal("bad_request", (await refreshed.ExpectAsync("error")).GetProperty("code").GetString());

        var clock = Stopwatch.StartNew();
        await lapsed.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"unrefreshed session closed {clock.ElapsedMilliseconds} ms after the test's refresh (token lifetime 3 s)");
        Report.Figure("token expiry", $"a 3 s token not refreshed: session closed with 4401 {clock.ElapsedMilliseconds} ms after the other session's refresh; the refreshed one kept editing");
        Assert.Equal((WebSocketCloseStatus)4401, lapsed.CloseStatus);

        await refreshed.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "still here" } });
        await refreshed.WaitForAsync("ack");
        Assert.Null(refreshed.CloseStatus);
    }

    [Fact]
    public async Task Signing_in_after_a_tokenless_hello_gives_the_session_its_user_qualified_tag_and_its_own_acks()
    {
        var doc = Doc();
        await using var client = await ConnectAsync(null);
        await client.SendAsync(new { type = "auth", token = TestTokens.Mint("ada", [$"write:{doc}"]) });
        var authed = await client.ExpectAsync("authed");
        Assert.NotEqual(client.Author, authed.GetProperty("author").GetString());
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "signed in" } });
        Assert.Equal(1, (await client.ExpectAsync("ack")).GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task A_refresh_that_grants_less_ends_the_session()
    {
        var doc = Doc();
        await using var client = await ConnectAsync(TestTokens.Mint("ada", [$"write:{doc}"]));
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "auth", token = TestTokens.Mint("ada", [$"read:{doc}"]) });
        await client.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((WebSocketCloseStatus)4403, client.CloseStatus);
    }

    [Fact]
    public async Task Revoking_a_token_or_a_user_cuts_their_live_sessions_within_seconds_and_refuses_them_after()
    {
        var doc = Doc();
        var jti = Guid.NewGuid().ToString("N");
        var revokedToken = TestTokens.Mint("ada", [$"write:{doc}"], jti: jti);
        await using var byToken = await ConnectAsync(revokedToken);
        await byToken.JoinAsync(doc);
        var user = "user-" + Guid.NewGuid().ToString("N")[..6];
        await using var byUser = await ConnectAsync(TestTokens.Mint(user, [$"write:{doc}"]));
        await byUser.JoinAsync(doc);
        await using var bystander = await ConnectAsync(TestTokens.Mint("carol", [$"write:{doc}"], jti: Guid.NewGuid().ToString("N")));
        await bystander.JoinAsync(doc);

        using var http = Server.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await RevokeAsync(http, new { token = jti }, key: null)).StatusCode);

        var clock = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.OK, (await RevokeAsync(http, new { token = jti }, TokensServer.OperatorKey)).StatusCode);
        await byToken.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        output.WriteLine($"revocation by token id to 4403: {clock.ElapsedMilliseconds} ms");
        Report.Figure("token revocation", $"token revoked by jti: its session closed with 4403 after {clock.ElapsedMilliseconds} ms (one front end)");
        Assert.Equal((WebSocketCloseStatus)4403, byToken.CloseStatus);

        clock.Restart();
        Assert.Equal(HttpStatusCode.OK, (await RevokeAsync(http, new { user }, TokensServer.OperatorKey)).StatusCode);
        await byUser.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
        output.WriteLine($"revocation by user to 4403: {clock.ElapsedMilliseconds} ms");
        Assert.Equal((WebSocketCloseStatus)4403, byUser.CloseStatus);

        await bystander.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "unaffected" } });
        await bystander.WaitForAsync("ack");

        // The revoked token is refused from now on, over every transport; the user signs in again with a newer token.
        var clientId = "c" + Guid.NewGuid().ToString("N")[..8];
        await using var again = await TestClient.OpenAsync(Server.WebSocketUri, clientId);
        await again.SendAsync(new { type = "hello", clientId, token = revokedToken });
        Assert.Contains("revoked", (await again.ExpectAsync("error")).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{doc}", revokedToken)).StatusCode);
        await using var signedInAgain = await ConnectAsync(TestTokens.Mint(user, [$"write:{doc}"], issuedAt: DateTime.UtcNow.AddSeconds(2)));
        Assert.Equal("edit", (await signedInAgain.JoinAsync(doc)).GetProperty("access").GetString());

        Assert.Equal(HttpStatusCode.BadRequest, (await RevokeAsync(http, new { token = "a", user = "b" }, TokensServer.OperatorKey)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await RevokeAsync(http, new { }, TokensServer.OperatorKey)).StatusCode);
    }

    [Fact]
    public async Task Http_reads_and_the_sse_fallback_take_the_same_tokens()
    {
        var doc = Doc();
        using var http = Server.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{doc}", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await GetAsync(http, $"/api/docs/{doc}", TestTokens.Mint("ada", ["read:other"]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await GetAsync(http, $"/api/docs/{doc}", TestTokens.Mint("ada", [$"read:{doc}"]))).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await GetAsync(http, $"/api/docs/{doc}/links", TestTokens.Mint("ada", [$"owner:{doc}"]))).StatusCode);

        await using var sse = await SseStream.OpenAsync(Server);
        var token = TestTokens.Mint("ada", [$"read:{doc}"]);
        await sse.PostAsync($"{{\"type\":\"hello\",\"clientId\":\"sse-tok\",\"token\":\"{token}\"}}\n{{\"type\":\"join\",\"doc\":\"{doc}\"}}");
        await sse.NextOfAsync("welcome");
        Assert.Equal("view", (await sse.NextOfAsync("joined")).GetProperty("access").GetString());
    }

    private async Task<TestClient> ConnectAsync(string? token, string? clientId = null, string? claimedName = null)
    {
        clientId ??= "c" + Guid.NewGuid().ToString("N")[..12];
        var client = await TestClient.OpenAsync(Server.WebSocketUri, clientId);
        var user = new { name = claimedName ?? "whoever", color = "#123456" };
        await client.SendAsync(token is null ? new { type = "hello", clientId, user } : new { type = "hello", clientId, token, user });
        var welcome = await client.ExpectAsync("welcome");
        client.Welcomed(welcome);
        return client;
    }

    private async Task<JsonElement> ReadAsync(string doc, string token)
    {
        using var http = Server.Http();
        using var response = await GetAsync(http, $"/api/docs/{doc}", token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task<HttpResponseMessage> RevokeAsync(HttpClient http, object body, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/operations/revocations") { Content = JsonContent.Create(body) };
        if (key is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return await http.SendAsync(request);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient http, string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }
}
