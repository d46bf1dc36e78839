using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Collab.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// Revocation on a real cluster (2 silos, 2 client-mode front ends, Redis, PostgreSQL): a rotated link or a revoked
/// token cuts the sessions on the front end that did not take the request, within 5 s; the figures are printed.
/// </summary>
public sealed class AccessClusterTests(ITestOutputHelper output)
{
    private const string OperatorKey = "cluster-operator-key-0123456789";

    [Fact]
    public async Task Rotating_a_link_on_one_front_end_closes_its_sessions_on_both()
    {
        await using var cluster = await LocalCluster.StartAsync(output, settings:
        [
            "--Collab:Access:Mode", "Links",
            "--Collab:Access:SigningKey", Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i + 3)).ToArray()),
            "--Collab:Operations:OperatorKey", OperatorKey,
        ]);
        try
        {
            using var http = cluster.FrontEnds[0].Http();
            using var created = await http.PostAsync("/api/docs", null);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var links = await created.Content.ReadFromJsonAsync<JsonElement>();
            var (doc, edit, owner) = (links.GetProperty("doc").GetString()!, links.GetProperty("edit").GetString()!, links.GetProperty("owner").GetString()!);

            var editors = new List<TestClient>();
            foreach (var frontEnd in cluster.FrontEnds)
            {
                var editor = await ConnectAsync(frontEnd, edit);
                Assert.Equal("edit", (await editor.JoinAsync(doc)).GetProperty("access").GetString());
                editors.Add(editor);
            }

            var clock = Stopwatch.StartNew();
            using var rotate = new HttpRequestMessage(HttpMethod.Post, $"/api/docs/{doc}/links/edit/rotate");
            rotate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", owner);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(rotate)).StatusCode);
            var cut = await Task.WhenAll(editors.Select(async e =>
            {
                await e.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
                return clock.ElapsedMilliseconds;
            }));
            Report.Figure("link rotation across front ends", $"edit link rotated on fe1: sessions closed with 4403 after {cut[0]} ms (fe1) and {cut[1]} ms (fe2)");
            output.WriteLine($"rotation to 4403: fe1 {cut[0]} ms, fe2 {cut[1]} ms");
            Assert.All(editors, e => Assert.Equal((WebSocketCloseStatus)4403, e.CloseStatus));
            foreach (var editor in editors) await editor.DisposeAsync();
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    [Fact]
    public async Task Revoking_a_user_on_one_front_end_closes_their_sessions_on_both()
    {
        var key = Enumerable.Range(0, 32).Select(i => (byte)(i * 5)).ToArray();
        await using var cluster = await LocalCluster.StartAsync(output, settings:
        [
            "--Collab:Access:Mode", "Tokens",
            "--Collab:Access:Tokens:Issuer", "https://login.cluster.test",
            "--Collab:Access:Tokens:Audience", "collab-cluster",
            "--Collab:Access:Tokens:HmacKey", Convert.ToBase64String(key),
            "--Collab:Operations:OperatorKey", OperatorKey,
        ]);
        try
        {
            const string doc = "revoked-doc";
            var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = "https://login.cluster.test",
                Audience = "collab-cluster",
                Expires = DateTime.UtcNow.AddMinutes(10),
                Claims = new Dictionary<string, object> { ["sub"] = "ada", ["docs"] = new[] { $"write:{doc}" } },
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(key), SecurityAlgorithms.HmacSha256),
            });
            var sessions = new List<TestClient>();
            foreach (var frontEnd in cluster.FrontEnds)
            {
                var session = await ConnectAsync(frontEnd, token);
                Assert.Equal("edit", (await session.JoinAsync(doc)).GetProperty("access").GetString());
                sessions.Add(session);
            }

            using var http = cluster.FrontEnds[0].Http();
            var clock = Stopwatch.StartNew();
            using var revoke = new HttpRequestMessage(HttpMethod.Post, "/api/operations/revocations") { Content = JsonContent.Create(new { user = "ada" }) };
            revoke.Headers.Authorization = new AuthenticationHeaderValue("Bearer", OperatorKey);
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(revoke)).StatusCode);
            var cut = await Task.WhenAll(sessions.Select(async s =>
            {
                await s.Closed.Task.WaitAsync(TimeSpan.FromSeconds(5));
                return clock.ElapsedMilliseconds;
            }));
            Report.Figure("token revocation across front ends", $"user revoked on fe1: sessions closed with 4403 after {cut[0]} ms (fe1) and {cut[1]} ms (fe2)");
            output.WriteLine($"revocation to 4403: fe1 {cut[0]} ms, fe2 {cut[1]} ms");
            Assert.All(sessions, s => Assert.Equal((WebSocketCloseStatus)4403, s.CloseStatus));
            foreach (var session in sessions) await session.DisposeAsync();
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    private static async Task<TestClient> ConnectAsync(HostProcess frontEnd, string token)
    {
        var clientId = "c" + Guid.NewGuid().ToString("N")[..10];
        var client = await TestClient.OpenAsync(frontEnd.WebSocketUri, clientId);
        await client.SendAsync(new { type = "hello", clientId, token });
        client.Welcomed(await client.ExpectAsync("welcome"));
        return client;
    }
}
