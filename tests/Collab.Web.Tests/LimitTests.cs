using System.Net.WebSockets;
using Collab.Storage;
using Collab.Storage.Sqlite;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>Limits and failure answers: too_large, rate_limited, stale_rev, internal.</summary>
public sealed class LimitTests(LimitedServer fixture) : IClassFixture<LimitedServer>
{
    private readonly CollabServer server = fixture.Server;

    private static string NewDoc() => "lim-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task A_frame_over_maxMessageBytes_gets_too_large_and_close_1009()
    {
        await using var client = await server.ConnectAsync();
        var doc = NewDoc();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { new string('x', LimitedServer.MaxMessageBytes) } });
        var error = await client.ExpectAsync("error");
        Assert.Equal("too_large", error.GetProperty("code").GetString());
        Assert.True(error.GetProperty("fatal").GetBoolean());
        await client.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(WebSocketCloseStatus.MessageTooBig, client.CloseStatus);
    }

    [Fact]
    public async Task Too_many_ops_per_second_get_rate_limited_with_retryAfterMs_and_are_not_applied()
    {
        await using var client = await server.ConnectAsync();
        var doc = NewDoc();
        await client.JoinAsync(doc);
        for (var i = 0; i < LimitedServer.Burst + 3; i++)
            await client.SendAsync(new { type = "presence", doc, rev = 0, anchor = 0, head = 0 });
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "x" } });
        var error = await client.WaitForAsync("error", e => e.GetProperty("code").GetString() == "rate_limited");
        Assert.InRange(error.GetProperty("retryAfterMs").GetInt32(), 1, 1000);

        // Sent again after waiting, the op lands.
        var limited = await client.WaitForAsync("error", e => e.TryGetProperty("seq", out _));
        Assert.Equal(("rate_limited", 1L), (limited.GetProperty("code").GetString(), limited.GetProperty("seq").GetInt64()));
        await Task.Delay(limited.GetProperty("retryAfterMs").GetInt32() + 50);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "x" } });
        Assert.Equal(1, (await client.WaitForAsync("ack")).GetProperty("rev").GetInt64());
    }

    [Fact]
    public async Task An_op_older_than_the_transform_window_gets_stale_rev()
    {
        var doc = NewDoc();
        await using var writer = await server.ConnectAsync();
        await writer.JoinAsync(doc);
        for (var i = 0; i < 9; i++)
        {
            await Task.Delay(600); // stay under the limited server's 2 ops/s once the burst is spent
            await writer.SendAsync(new { type = "op", doc, rev = i, seq = i + 1, op = i == 0 ? new object[] { "x" } : [i, "x"] });
            await writer.WaitForAsync("ack");
        }
        await using var late = await server.ConnectAsync();
        await late.JoinAsync(doc);
        await late.SendAsync(new { type = "op", doc, rev = 1, seq = 1, op = new object[] { 1, "y" } });
        var error = await late.ExpectAsync("error");
        Assert.Equal(("stale_rev", 1L), (error.GetProperty("code").GetString(), error.GetProperty("seq").GetInt64()));
    }

    [Fact]
    public async Task When_another_writer_takes_the_fence_the_op_gets_internal_with_retry_and_a_resend_lands()
    {
        var doc = NewDoc();
        await using var client = await server.ConnectAsync();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "base" } });
        await client.ExpectAsync("ack");

        // A second writer on the same database (as a second activation would be) appends rev 2 behind the grain's back.
        await using (var other = new SqliteDocumentStore(new SqliteDocumentStoreOptions { DataPath = server.DataPath }))
            await other.AppendAsync(doc, [new StoredOp(2, "intruder", 1, "[\"X\",4]")]);

        await client.SendAsync(new { type = "op", doc, rev = 1, seq = 2, op = new object[] { 4, "!" } });
        var error = await client.ExpectAsync("error");
        Assert.Equal(("internal", 2L), (error.GetProperty("code").GetString(), error.GetProperty("seq").GetInt64()));
        Assert.True(error.GetProperty("retryAfterMs").GetInt32() > 0);

        // The client resends the same seq until it lands; it lands once, after the intruder's op.
        var acked = false;
        for (var attempt = 0; attempt < 40 && !acked; attempt++)
        {
            await Task.Delay(error.GetProperty("retryAfterMs").GetInt32());
            await client.SendAsync(new { type = "op", doc, rev = 1, seq = 2, op = new object[] { 4, "!" } });
            var reply = await client.WaitForAsync("ack", timeout: TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : default);
            acked = reply.ValueKind != System.Text.Json.JsonValueKind.Undefined;
        }
        Assert.True(acked);
        using var http = server.Http();
        var text = await http.GetStringAsync($"/api/docs/{doc}");
        Assert.Contains("\"text\":\"Xbase!\"", text, StringComparison.Ordinal);
    }
}
