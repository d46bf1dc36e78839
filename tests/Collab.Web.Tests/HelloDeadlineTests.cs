using System.Diagnostics;
using System.Net.WebSockets;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>Sessions that never introduce themselves are closed at the hello deadline (4400); ones that do are kept.</summary>
public sealed class HelloDeadlineTests
{
    [Fact]
    public async Task Silent_and_ping_only_sockets_are_closed_with_4400_at_the_deadline_and_introduced_ones_stay()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:HelloTimeoutMs"] = "800" });
        var clock = Stopwatch.StartNew();
        await using var silent = await TestClient.OpenAsync(server.WebSocketUri, "silent");
        await using var pinger = await TestClient.OpenAsync(server.WebSocketUri, "pinger");
        await using var introduced = await server.ConnectAsync();
        await pinger.SendAsync(new { type = "ping" });
        await pinger.ExpectAsync("pong");

        await silent.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await pinger.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(clock.ElapsedMilliseconds, 700, 10_000);
        Assert.Equal((WebSocketCloseStatus)4400, silent.CloseStatus);
        Assert.Equal((WebSocketCloseStatus)4400, pinger.CloseStatus);

        await introduced.SendAsync(new { type = "ping", t = 1 });
        Assert.Equal("pong", (await introduced.ExpectAsync("pong")).GetProperty("type").GetString());
        Assert.Null(introduced.CloseStatus);
    }

    [Fact]
    public async Task A_fallback_stream_that_never_says_hello_ends_with_a_4400_close_event()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:FrontEnd:HelloTimeoutMs"] = "800" });
        await using var sse = await SseStream.OpenAsync(server);
        var close = await sse.NextOfAsync("close", TimeSpan.FromSeconds(10));
        Assert.Equal(4400, close.GetProperty("code").GetInt32());
    }
}
