using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Xunit;
using Collab.Testing;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

[Collection(HeavyLoad.Name)]
public sealed class BackPressureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_session_that_stops_reading_is_dropped_without_slowing_the_others_and_resumes_without_loss()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:SendQueueFrames"] = "16",
            ["Collab:FrontEnd:CloseTimeoutMs"] = "1000",
            ["Collab:FrontEnd:MessagesPerSecond"] = "100000",
            ["Collab:FrontEnd:MessageBurst"] = "100000",
            ["Collab:FrontEnd:OpBytesPerSecond"] = "1073741824",
            ["Collab:FrontEnd:OpByteBurst"] = "1073741824",
        });
        const string doc = "backpressure";

        // A client that joins, shows its cursor, then never reads again.
        using var stalled = new ClientWebSocket();
        stalled.Options.AddSubProtocol("collab.v1");
        stalled.Options.SetBuffer(1024, 1024);
        await stalled.ConnectAsync(server.WebSocketUri, CancellationToken.None);
        foreach (var frame in new object[]
                 {
                     new { type = "hello", clientId = "stalled" },
                     new { type = "join", doc },
                     new { type = "presence", doc, rev = 0, anchor = 0, head = 0 },
                 })
            await stalled.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);

        await using var writer = await server.ConnectAsync("writer");
        await writer.JoinAsync(doc);
        await writer.WaitForAsync("presence", p => p.TryGetProperty("author", out _)); // the stalled session's cursor: the only other one

        // 16 KiB replacements: far more bytes than the socket buffers and the 16-frame queue hold.
        var chunk = new string('z', 16 * 1024);
        var length = 0;
        var dropped = false;
        var started = DateTime.UtcNow;
        var rev = 0L;
        for (var i = 0; i < 1500 && !dropped; i++)
        {
            object[] op = length == 0 ? [chunk] : [-length, chunk];
            await writer.SendAsync(new { type = "op", doc, rev, seq = i + 1, op });
            while (true)
            {
                var frame = await writer.NextAsync();
                var type = frame.GetProperty("type").GetString();
                if (type == "ack")
                {
                    rev = frame.GetProperty("rev").GetInt64();
                    break;
                }
                if (type == "presence" && frame.TryGetProperty("left", out _)) dropped = true;
            }
            length = chunk.Length;
        }
        var elapsed = DateTime.UtcNow - started;
        if (!dropped) dropped = (await writer.WaitForAsync("presence", p => p.TryGetProperty("left", out _), TimeSpan.FromSeconds(10))).ValueKind != JsonValueKind.Undefined;
        output.WriteLine($"writer committed {rev} ops of 16 KiB in {elapsed.TotalMilliseconds:F0} ms while the stalled session was dropped");
        Report.Figure("back-pressure", $"a stalled reader was dropped after {rev} ops of 16 KiB; the writer was not slowed ({elapsed.TotalMilliseconds:F0} ms)");
        Assert.True(dropped, "the stalled session was never dropped");

        // The stalled client finds its socket closed; it reconnects, resumes from rev 0 and gets everything.
        var drained = 0;
        try
        {
            var buffer = new byte[64 * 1024];
            while (true)
            {
                var result = await stalled.ReceiveAsync(buffer, new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    Assert.Equal((WebSocketCloseStatus)4409, result.CloseStatus);
                    break;
                }
                drained++;
            }
        }
        catch (WebSocketException)
        {
            // Aborted: the close frame could not get through a full socket either — the drop is what matters.
        }
        output.WriteLine($"the stalled client drained {drained} buffered frames before the end of its socket");

        await using var resumed = await server.ConnectAsync("stalled");
        var joined = await resumed.JoinAsync(doc, rev: 0);
        // Hundreds of 16 KiB ops weigh more than MaxCatchUpBytes: the answer is the text (a short catch-up would be ops).
        var text = joined.TryGetProperty("text", out var full) ? full.GetString()! : "";
        if (!joined.TryGetProperty("text", out _))
            foreach (var op in joined.GetProperty("ops").EnumerateArray())
                text = Collab.Ot.TextOperation.Parse(op.GetProperty("op").GetRawText()).Apply(text);
        Assert.Equal(rev, joined.GetProperty("rev").GetInt64());
        Assert.Equal(chunk, text);
    }

    [Fact]
    public async Task A_stalled_reader_does_not_make_the_server_buffer_what_it_cannot_send()
    {
        // The same load twice, each on a fresh server process: once with nobody stalled, once with a reader that never
        // reads. What the stalled reader adds to the server's memory must be far less than what was pushed at it.
        var control = await MeasureAsync(withStalledReader: false);
        var stalled = await MeasureAsync(withStalledReader: true);
        var extra = stalled.Growth - control.Growth;
        var line = $"pushed {stalled.Pushed / 1048576} MiB of ops at a stalled reader: server RSS grew {stalled.Growth / 1048576} MiB, "
            + $"{control.Growth / 1048576} MiB under the same load without it (extra {extra / 1048576} MiB); the reader was dropped with 4409";
        output.WriteLine(line);
        Report.Figure("back-pressure memory", line);
        // Buffering what it cannot send would add about all of it; the collector alone swings by up to ~15 MiB here.
        Assert.True(extra < stalled.Pushed / 2, line);
    }

    private static async Task<(long Growth, long Pushed)> MeasureAsync(bool withStalledReader)
    {
        // A separate server process, so its resident memory is its own.
        using var host = await HostProcess.StartAsync("Collab.Web",
        [
            "--Collab:Storage:DataPath", Path.Combine(Path.GetTempPath(), "collab-memory", Guid.NewGuid().ToString("N")),
            "--Collab:Cluster:SiloPort", HostProcess.Port(RepoPaths.FreePort()),
            "--Collab:Documents:WindowSize", "16",
            "--Collab:Documents:OpsPerSecond", "100000",
            "--Collab:Documents:OpsBurst", "100000",
            "--Collab:FrontEnd:MessagesPerSecond", "100000",
            "--Collab:FrontEnd:MessageBurst", "100000",
            "--Collab:FrontEnd:OpBytesPerSecond", "1073741824",
            "--Collab:FrontEnd:OpByteBurst", "1073741824",
            "--Collab:FrontEnd:CloseTimeoutMs", "1000",
            "--Logging:LogLevel:Default", "Warning",
        ],
        // Workstation GC collects often, so resident memory tracks live data rather than garbage awaiting a collection.
        environment: new Dictionary<string, string> { ["DOTNET_gcServer"] = "0" });
        const string doc = "memory";
        using var stalled = new ClientWebSocket();
        await using var writer = await TestClient.ConnectAsync(host.WebSocketUri, "writer");
        await writer.JoinAsync(doc);
        if (withStalledReader)
        {
            stalled.Options.AddSubProtocol("collab.v1");
            stalled.Options.SetBuffer(1024, 1024);
            await stalled.ConnectAsync(host.WebSocketUri, CancellationToken.None);
            foreach (var frame in new object[] { new { type = "hello", clientId = "stalled" }, new { type = "join", doc }, new { type = "presence", doc, rev = 0, anchor = 0, head = 0 } })
                await stalled.SendAsync(JsonSerializer.SerializeToUtf8Bytes(frame), WebSocketMessageType.Text, true, CancellationToken.None);
            await writer.WaitForAsync("presence", p => p.TryGetProperty("author", out _)); // the stalled session's cursor: the only other one
        }

        const int ops = 3000;
        var chunk = new string('m', 16 * 1024);
        long baseline = 0, peak = 0;
        var dropped = false;
        var rev = 0L;
        for (var i = 0; i < ops; i++)
        {
            object[] op = i == 0 ? [chunk] : [-chunk.Length, chunk];
            await writer.SendAsync(new { type = "op", doc, rev, seq = i + 1, op });
            while (true)
            {
                var frame = await writer.NextAsync();
                var type = frame.GetProperty("type").GetString();
                if (type == "presence" && frame.TryGetProperty("left", out _)) dropped = true;
                if (type != "ack") continue;
                rev = frame.GetProperty("rev").GetInt64();
                break;
            }
            if (i == 100) baseline = host.ResidentBytes();
            if (i > 100 && i % 50 == 0) peak = Math.Max(peak, host.ResidentBytes());
        }
        if (withStalledReader && !dropped)
            await writer.WaitForAsync("presence", p => p.TryGetProperty("left", out _), TimeSpan.FromSeconds(10));
        return (peak - baseline, (long)ops * chunk.Length);
    }
}
