using Xunit;

namespace Collab.Web.Tests;

public sealed class SmokeTests
{
    [Fact]
    public async Task Two_sessions_edit_one_document()
    {
        await using var server = await CollabServer.StartAsync();
        await using var a = await server.ConnectAsync("alice");
        await using var b = await server.ConnectAsync("bob");
        var joinedA = await a.JoinAsync("smoke");
        await b.JoinAsync("smoke");
        Assert.Equal(0, joinedA.GetProperty("rev").GetInt64());
        await a.SendAsync(new { type = "op", doc = "smoke", rev = 0, seq = 1, op = new object[] { "hi" } });
        var ack = await a.WaitForAsync("ack");
        Assert.Equal(1, ack.GetProperty("rev").GetInt64());
        var op = await b.WaitForAsync("op");
        Assert.Equal(a.Author, op.GetProperty("author").GetString());
    }
}
