using System.Net.WebSockets;
using Xunit;

namespace Collab.Web.Tests;

public sealed class ShutdownTests
{
    [Fact]
    public async Task Stopping_the_server_closes_sessions_with_1001_going_away()
    {
        var server = await CollabServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.JoinAsync("shutdown");
        await server.DisposeAsync();
        await client.Closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
    }
}
