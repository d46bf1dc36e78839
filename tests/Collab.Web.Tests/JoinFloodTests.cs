using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>A session that joins document after document is slowed down without hurting honest editors on the host.</summary>
public sealed class JoinFloodTests
{
    [Fact]
    public async Task A_join_flood_is_rate_limited_and_an_honest_editor_of_the_same_host_is_untouched()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:JoinsPerSecond"] = "5",
            ["Collab:FrontEnd:JoinBurst"] = "10",
        });
        await using var honest = await server.ConnectAsync();
        await honest.JoinAsync("honest-doc");
        await using var flooder = await server.ConnectAsync();

        var (joined, limited) = (0, 0);
        for (var i = 0; i < 200; i++)
        {
            await flooder.SendAsync(new { type = "leave", doc = $"flood-{i - 1}" });
            await flooder.SendAsync(new { type = "join", doc = $"flood-{i}" });
        }
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (joined + limited < 200 && DateTime.UtcNow < deadline)
        {
            var frame = await flooder.NextAsync();
            var type = frame.GetProperty("type").GetString();
            if (type == "joined") joined++;
            else if (type == "error" && frame.GetProperty("code").GetString() == "rate_limited")
            {
                limited++;
                Assert.True(frame.GetProperty("retryAfterMs").GetInt32() > 0);
            }
        }
        Assert.Equal(200, joined + limited);
        Assert.InRange(joined, 10, 30); // the burst, plus what the rate refilled while the loop ran
        Report.Figure("join flood", $"200 join frames from one socket: {joined} joined, {limited} refused with rate_limited (5/s, burst 10)");

        for (var seq = 1; seq <= 20; seq++)
        {
            await honest.SendAsync(new { type = "op", doc = "honest-doc", rev = seq - 1, seq, op = seq == 1 ? new object[] { "x" } : new object[] { seq - 1, "x" } });
            Assert.Equal(seq, (await honest.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        }
    }
}
