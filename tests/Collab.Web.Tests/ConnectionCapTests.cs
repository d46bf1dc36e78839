using System.Net;
using System.Net.WebSockets;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>Live sessions are capped per host and per client address; refusals say why (4429, 4503; 429, 503 over SSE).</summary>
public sealed class ConnectionCapTests
{
    [Fact]
    public async Task Sessions_beyond_the_per_address_cap_are_refused_with_4429_and_a_slot_frees_when_one_closes()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:MaxSessionsPerAddress"] = "3" });
        var held = new List<TestClient>();
        for (var i = 0; i < 3; i++) held.Add(await server.ConnectAsync());

        await using var fourth = await TestClient.OpenAsync(server.WebSocketUri, "fourth");
        await fourth.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)4429, fourth.CloseStatus);

        // The fallback counts against the same cap.
        using var http = server.Http();
        using (var sse = await http.GetAsync("/sse", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, sse.StatusCode);
            Assert.Contains("4429", await sse.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await held[0].DisposeAsync();
        await Eventually(async () =>
        {
            await using var again = await TestClient.OpenAsync(server.WebSocketUri, "again-" + Guid.NewGuid().ToString("N")[..6]);
            await again.SendAsync(new { type = "hello", clientId = again.ClientId });
            return (await again.NextAsync()).GetProperty("type").GetString() == "welcome";
        });
        foreach (var client in held.Skip(1)) await client.DisposeAsync();
    }

    [Fact]
    public async Task The_host_cap_refuses_with_4503_and_forwarded_addresses_count_only_from_trusted_proxies()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:MaxSessions"] = "4",
            ["Collab:FrontEnd:MaxSessionsPerAddress"] = "2",
            ["Collab:FrontEnd:TrustedProxies:0"] = "127.0.0.1",
        });
        // Through the "proxy" (this test, at 127.0.0.1): each forwarded client gets its own per-address budget.
        var clients = new List<TestClient>();
        foreach (var address in new[] { "203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.2" })
            clients.Add(await TestClient.OpenAsync(server.WebSocketUri, "c" + clients.Count, o => o.SetRequestHeader("X-Forwarded-For", $"198.51.100.9, {address}")));
        foreach (var client in clients)
        {
            await client.SendAsync(new { type = "hello", clientId = client.ClientId });
            await client.ExpectAsync("welcome");
        }

        await using var third = await TestClient.OpenAsync(server.WebSocketUri, "x", o => o.SetRequestHeader("X-Forwarded-For", "203.0.113.3"));
        await third.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)4503, third.CloseStatus);
        foreach (var client in clients) await client.DisposeAsync();
    }

    [Fact]
    public async Task A_forwarded_header_from_an_untrusted_peer_does_not_buy_a_new_budget()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:MaxSessionsPerAddress"] = "1" });
        await using var first = await server.ConnectAsync();
        await using var spoofed = await TestClient.OpenAsync(server.WebSocketUri, "spoof", o => o.SetRequestHeader("X-Forwarded-For", "203.0.113.77"));
        await spoofed.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal((WebSocketCloseStatus)4429, spoofed.CloseStatus);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition was not met within 10 s");
            await Task.Delay(100);
        }
    }
}
