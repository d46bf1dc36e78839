using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// Two live sessions never share one client key (a duplicated browser tab copies its clientId): the second page is
/// refused with client_id_in_use, the first keeps every edit; the same page reconnecting takes over its old session.
/// </summary>
public sealed class DuplicateClientTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private CollabServer Server => fixture.Server;

    [Fact]
    public async Task A_second_page_with_the_same_client_id_is_refused_and_admitted_once_the_first_leaves()
    {
        var doc = "dup-" + Guid.NewGuid().ToString("N")[..8];
        const string clientId = "copied-tab";
        await using var original = await HelloAsync(clientId + doc, "page-original");
        await original.JoinAsync(doc);
        await original.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "A" } });
        await original.ExpectAsync("ack");

        await using var duplicate = await HelloAsync(clientId + doc, "page-duplicate");
        await duplicate.SendAsync(new { type = "join", doc });
        var refused = await duplicate.ExpectAsync("error");
        Assert.Equal("client_id_in_use", refused.GetProperty("code").GetString());
        Assert.Equal(1000, refused.GetProperty("retryAfterMs").GetInt32());
        // Without joining, the duplicate cannot send ops that would collide with the original's.
        await duplicate.SendAsync(new { type = "op", doc, rev = 1, seq = 2, op = new object[] { 1, "B" } });
        Assert.Equal("not_joined", (await duplicate.ExpectAsync("error")).GetProperty("code").GetString());

        await original.SendAsync(new { type = "op", doc, rev = 1, seq = 2, op = new object[] { 1, "C" } });
        Assert.Equal(2, (await original.ExpectAsync("ack")).GetProperty("rev").GetInt64());
        await original.SendAsync(new { type = "leave", doc });
        await original.ExpectAsync("left");

        Assert.Equal("AC", (await duplicate.JoinAsync(doc)).GetProperty("text").GetString());
    }

    [Fact]
    public async Task The_same_page_reconnecting_takes_over_its_old_session_at_once()
    {
        var doc = "dup-" + Guid.NewGuid().ToString("N")[..8];
        var clientId = "tab-" + doc;
        await using var before = await HelloAsync(clientId, "page-1");
        await before.JoinAsync(doc);
        // The old socket is still open (the server has not noticed the network drop): the page reconnects anyway.
        await using var after = await HelloAsync(clientId, "page-1");
        await after.JoinAsync(doc);
        await after.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "x" } });
        await after.ExpectAsync("ack");
    }

    [Fact]
    public async Task A_closed_socket_releases_its_client_id_and_other_documents_never_conflict()
    {
        var doc = "dup-" + Guid.NewGuid().ToString("N")[..8];
        var clientId = "tab-" + doc;
        var first = await HelloAsync(clientId, "page-1");
        await first.JoinAsync(doc);
        await using var elsewhere = await HelloAsync(clientId, "page-2");
        await elsewhere.JoinAsync(doc + "-other");
        await first.DisposeAsync();

        await using var next = await HelloAsync(clientId, "page-3");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            await next.SendAsync(new { type = "join", doc });
            var answer = await next.NextAsync();
            if (answer.GetProperty("type").GetString() == "joined") break;
            Assert.Equal("client_id_in_use", answer.GetProperty("code").GetString());
            Assert.True(DateTime.UtcNow < deadline, "the closed socket's claim was never released");
            await Task.Delay(100);
        }
    }

    private async Task<TestClient> HelloAsync(string clientId, string instance)
    {
        var client = await TestClient.OpenAsync(Server.WebSocketUri, clientId);
        await client.SendAsync(new { type = "hello", clientId, instance });
        client.Welcomed(await client.ExpectAsync("welcome"));
        return client;
    }
}
