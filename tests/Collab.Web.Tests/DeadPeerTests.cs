using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>A peer that goes silent (no pong, no close: a laptop lid shut, a cable pulled) is found and cleaned up.</summary>
public sealed class DeadPeerTests
{
    [Fact]
    public async Task A_peer_that_stops_answering_pings_is_dropped_and_its_presence_removed_within_the_heartbeat_timeout()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:HeartbeatMs"] = "1000",
            ["Collab:FrontEnd:HeartbeatTimeoutMs"] = "2000",
        });
        const string doc = "dead-peer";
        await using var watcher = await server.ConnectAsync("watcher");
        await watcher.JoinAsync(doc);

        // A raw socket speaks just enough WebSocket to say hello, join and show a cursor, then never reads again:
        // it answers no ping, sends no close.
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseUri.Host, server.BaseUri.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /ws HTTP/1.1\r\nHost: {server.BaseUri.Authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: collab.v1\r\n\r\n"));
        var head = new byte[1024];
        var read = await stream.ReadAsync(head);
        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString(head, 0, read), StringComparison.Ordinal);
        foreach (var frame in new[]
                 {
                     """{"type":"hello","clientId":"ghost"}""",
                     $$"""{"type":"join","doc":"{{doc}}"}""",
                     $$"""{"type":"presence","doc":"{{doc}}","rev":0,"anchor":0,"head":0}""",
                 })
            await stream.WriteAsync(MaskedTextFrame(frame));

        var shown = await watcher.WaitForAsync("presence", p => p.TryGetProperty("author", out _)); // the ghost's cursor: the only other one
        var ghost = shown.GetProperty("sessionId").GetString();
        var silentSince = DateTime.UtcNow;

        var left = await watcher.WaitForAsync("presence", p => p.TryGetProperty("left", out _), TimeSpan.FromSeconds(15));
        var after = DateTime.UtcNow - silentSince;
        Assert.Equal(ghost, left.GetProperty("sessionId").GetString());
        // Dropped after a missed pong (ping every 1 s, 2 s to answer), not merely when TCP eventually gives up.
        Assert.InRange(after.TotalSeconds, 1, 8);
    }

    /// <summary>A client frame: FIN + text opcode, masked payload (clients must mask).</summary>
    private static byte[] MaskedTextFrame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        var mask = RandomNumberGenerator.GetBytes(4);
        var header = payload.Length < 126 ? new byte[] { 0x81, (byte)(0x80 | payload.Length) } : [0x81, 0x80 | 126, (byte)(payload.Length >> 8), (byte)payload.Length];
        var frame = new byte[header.Length + 4 + payload.Length];
        header.CopyTo(frame, 0);
        mask.CopyTo(frame, header.Length);
        for (var i = 0; i < payload.Length; i++) frame[header.Length + 4 + i] = (byte)(payload[i] ^ mask[i % 4]);
        return frame;
    }
}
