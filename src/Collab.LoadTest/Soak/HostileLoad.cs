using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Collab.Ot;

namespace Collab.LoadTest;

/// <summary>
/// The soak's hostile clients, each a loop that reconnects whenever the server closes it: ops at the size limit
/// inserted and deleted (and one over it now and then), join/leave floods on fresh document names, sockets that never
/// send <c>hello</c>, sockets that join the big document and never read, garbage and oversized frames, and fallback
/// streams opened and abandoned (<see cref="HostileSse"/>). What the server answered is counted in <see cref="Outcomes"/>.
/// </summary>
internal sealed class HostileLoad(ServerApi api, LoadOptions options, string bigDoc, int maxMessageBytes, Outcomes outcomes) : IDisposable
{
    private readonly List<HostileSse> streams = [];

    private static readonly TimeSpan Reply = TimeSpan.FromSeconds(30);

    /// <summary>How long a stalled reader holds its socket unread before it looks at what became of it.</summary>
    public static readonly TimeSpan StallFor = TimeSpan.FromSeconds(15);

    /// <summary>Largest insert whose op bound (docs/protocol.md, op size rule: ≤ maxMessageBytes − 512) the server accepts.</summary>
    public int LargestInsert(int retain) => maxMessageBytes - 512 - ((int)WireSize.Operation(Insert(retain, "h")) - 1);

    /// <summary>Starts every loop: <c>Hostile</c> of each kind (silent sockets four times as many: each lives only until the hello deadline).</summary>
    public Task[] Start(CancellationToken stop)
    {
        var loops = new List<Task>();
        for (var i = 0; i < options.Hostile; i++)
        {
            var doc = i == 0 ? bigDoc : $"{options.DocPrefix}-large-{i}";
            var n = i;
            loops.Add(Forever("large ops", ct => LargeOpsAsync(doc, ct), stop));
            loops.Add(Forever("join flood", ct => JoinFloodAsync(n, ct), stop));
            loops.Add(Forever("stalled reader", StalledReaderAsync, stop));
            loops.Add(Forever("garbage", GarbageAsync, stop));
            var sse = new HostileSse(api, options, outcomes);
            streams.Add(sse);
            loops.Add(Forever("sse", sse.OnceAsync, stop));
            for (var j = 0; j < 4; j++) loops.Add(Forever("silent", SilentAsync, stop));
        }
        return [.. loops];
    }

    /// <summary>Once the loops have ended: closes the fallback streams' pooled connections.</summary>
    public void Dispose()
    {
        foreach (var sse in streams) sse.Dispose();
    }

    /// <summary>Runs <paramref name="once"/> until <paramref name="stop"/>; a fault of the hostile client itself is counted and followed by a short pause.</summary>
    private async Task Forever(string role, Func<CancellationToken, Task> once, CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await once(stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is WebSocketException or HttpRequestException or IOException or JsonException or OtException or InvalidOperationException or OperationCanceledException)
            {
                if (stop.IsCancellationRequested) return;
                outcomes.Count($"fault {role}: {e.GetType().Name}");
                try
                {
                    await Task.Delay(200, stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private string NewClientId(string role) => Runner.ClientId(options, role);

    /// <summary>Inserts the largest op allowed at the end of <paramref name="doc"/>, deletes it, repeats; every fourth round first tries one character more (<c>too_large</c>).</summary>
    private async Task LargeOpsAsync(string doc, CancellationToken stop)
    {
        await using var s = await HostileSocket.OpenAsync(api.WebSocketUri, stop);
        if (!await HelloAsync(s, "large", stop)) return;
        var (rev, length) = await JoinAsync(s, doc, stop);
        if (rev < 0) return;
        long seq = 0;
        for (var round = 0; !stop.IsCancellationRequested; round++)
        {
            var n = LargestInsert(length);
            if (round % 4 == 3)
            {
                // One unit over the bound: refused without closing the session, and never applied.
                var refused = await SubmitAsync(s, doc, rev, ++seq, Insert(length, new string('x', n + 1)), stop);
                if (refused.Frame?.Code != "too_large") return;
                outcomes.Count("op over the bound refused");
                continue;
            }
            var inserted = await SubmitAsync(s, doc, rev, ++seq, Insert(length, new string('h', n)), stop);
            if (inserted.Frame?.Type != "ack") return;
            rev = inserted.Frame.Rev!.Value;
            var deleted = await SubmitAsync(s, doc, rev, ++seq, new TextOperationBuilder().Retain(length).Delete(n).Build(), stop);
            if (deleted.Frame?.Type != "ack") return;
            rev = deleted.Frame.Rev!.Value;
        }
    }

    private static TextOperation Insert(int retain, string text) => new TextOperationBuilder().Retain(retain).Insert(text).Build();

    /// <summary>Sends one op and waits for its answer, resending it (same seq) after every <c>rate_limited</c>.</summary>
    private async Task<Received> SubmitAsync(HostileSocket s, string doc, long rev, long seq, TextOperation op, CancellationToken stop)
    {
        var frame = LoadClient.Json(w =>
        {
            w.WriteString("type"u8, "op"u8);
            w.WriteString("doc"u8, doc);
            w.WriteNumber("rev"u8, rev);
            w.WriteNumber("seq"u8, seq);
            w.WritePropertyName("op"u8);
            op.WriteTo(w);
        });
        while (true)
        {
            await s.SendAsync(frame, stop);
            var answer = await s.WaitForAsync(f => f.Type == "ack" && f.Seq == seq, Reply, stop);
            outcomes.Count(answer.Kind);
            if (answer.Frame is not { Code: "rate_limited" } limited) return answer;
            await Task.Delay(Math.Max(1, limited.RetryAfterMs ?? 100), stop);
        }
    }

    /// <summary>Joins a fresh document name, leaves it, joins the next, as fast as the join rate limit lets it.</summary>
    private async Task JoinFloodAsync(int index, CancellationToken stop)
    {
        await using var s = await HostileSocket.OpenAsync(api.WebSocketUri, stop);
        if (!await HelloAsync(s, "flood", stop)) return;
        var id = Guid.NewGuid().ToString("N")[..6];
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var doc = $"{options.DocPrefix}-flood{index}-{id}-{n}";
            await s.SendAsync(w =>
            {
                w.WriteString("type"u8, "join"u8);
                w.WriteString("doc"u8, doc);
            }, stop);
            var joined = await s.WaitForAsync(f => f.Type == "joined" && f.Doc == doc, Reply, stop);
            outcomes.Count(joined.Kind);
            if (joined.Frame is { Code: "rate_limited" } limited)
            {
                await Task.Delay(Math.Max(1, limited.RetryAfterMs ?? 100), stop);
                continue;
            }
            if (joined.Frame?.Type != "joined") return;
            await s.SendAsync(w =>
            {
                w.WriteString("type"u8, "leave"u8);
                w.WriteString("doc"u8, doc);
            }, stop);
            var left = await s.WaitForAsync(f => f.Type == "left" && f.Doc == doc, Reply, stop);
            outcomes.Count(left.Kind);
            if (left.Frame?.Type != "left") return;
        }
    }

    /// <summary>Opens a socket and never says hello: the server must close it at its hello deadline.</summary>
    private async Task SilentAsync(CancellationToken stop)
    {
        await using var s = await HostileSocket.OpenAsync(api.WebSocketUri, stop);
        outcomes.Count("silent opened");
        // Anything but a close (the server sends nothing to a session that has not said hello) is skipped.
        var end = await s.WaitForAsync(_ => false, TimeSpan.FromSeconds(60), stop);
        outcomes.Count(end.Kind);
    }

    /// <summary>Joins the big document with a 1 KiB receive buffer and reads nothing for <see cref="StallFor"/>, then drains to see what the server did meanwhile.</summary>
    private async Task StalledReaderAsync(CancellationToken stop)
    {
        await using var s = await HostileSocket.OpenAsync(api.WebSocketUri, stop, smallBuffers: true);
        foreach (var frame in new[]
        {
            LoadClient.Json(w =>
            {
                w.WriteString("type"u8, "hello"u8);
                w.WriteString("clientId"u8, NewClientId("stall"));
            }),
            LoadClient.Json(w =>
            {
                w.WriteString("type"u8, "join"u8);
                w.WriteString("doc"u8, bigDoc);
            }),
        })
            await s.SendAsync(frame, stop);
        outcomes.Count("stalled joined");
        await Task.Delay(StallFor, stop);
        // Drain: the frames the kernel held, then either the server's close (4409: its send queue overflowed) or,
        // when it kept the session, five quiet seconds.
        while (true)
        {
            var next = await s.ReceiveAsync(TimeSpan.FromSeconds(5), stop);
            if (next.End is "timeout")
            {
                outcomes.Count("stalled kept");
                s.Abort();
                return;
            }
            if (next.End is not null)
            {
                outcomes.Count(next.Kind);
                return;
            }
        }
    }

    /// <summary>Malformed frames (answered, not fatal), then one fatal one: an oversized text frame (<c>too_large</c>, 1009) or a binary frame (<c>bad_json</c>, 1002).</summary>
    private async Task GarbageAsync(CancellationToken stop)
    {
        await using var s = await HostileSocket.OpenAsync(api.WebSocketUri, stop);
        if (!await HelloAsync(s, "garbage", stop)) return;
        string[] junk =
        [
            "{not json",
            """{"type":"dance"}""",
            """{"type":"join","doc":"has space"}""",
            """{"type":"op","doc":"x","rev":-1,"seq":1.5,"op":[]}""",
            """{"type":"hello","clientId":"again"}""",
        ];
        foreach (var text in junk)
        {
            await s.SendAsync(Encoding.UTF8.GetBytes(text), stop);
            var answer = await s.ReceiveAsync(Reply, stop);
            outcomes.Count(answer.Kind);
            if (answer.End is not null) return;
        }
        var oversized = Random.Shared.Next(2) == 0;
        await s.SendAsync(oversized ? Encoding.ASCII.GetBytes(new string('z', maxMessageBytes + 1)) : [1, 2, 3], stop,
            oversized ? WebSocketMessageType.Text : WebSocketMessageType.Binary);
        for (var i = 0; i < 2; i++)
        {
            var answer = await s.ReceiveAsync(Reply, stop);
            outcomes.Count(answer.Kind);
            if (answer.End is not null) break;
        }
        // A pause between connections: this loop is about the frames, not about flooding the accept queue.
        await Task.Delay(250, stop);
    }

    private async Task<bool> HelloAsync(HostileSocket s, string role, CancellationToken stop)
    {
        var welcome = await s.HelloAsync(NewClientId(role), Reply, stop);
        if (welcome.Frame?.Type == "welcome") return true;
        outcomes.Count(welcome.Kind);
        await Task.Delay(500, stop);
        return false;
    }

    /// <summary>Joins <paramref name="doc"/> and returns its revision and length (a text in parts is summed); revision −1 when refused.</summary>
    private async Task<(long Rev, int Length)> JoinAsync(HostileSocket s, string doc, CancellationToken stop)
    {
        while (true)
        {
            await s.SendAsync(w =>
            {
                w.WriteString("type"u8, "join"u8);
                w.WriteString("doc"u8, doc);
            }, stop);
            var joined = await s.WaitForAsync(f => f.Type == "joined" && f.Doc == doc, Reply, stop);
            if (joined.Frame is { Code: "rate_limited" } limited)
            {
                outcomes.Count(joined.Kind);
                await Task.Delay(Math.Max(1, limited.RetryAfterMs ?? 100), stop);
                continue;
            }
            if (joined.Frame is not { Type: "joined" } frame)
            {
                outcomes.Count(joined.Kind);
                return (-1, 0);
            }
            var length = frame.Text?.Length ?? 0;
            for (var part = 2; part <= (frame.Parts ?? 1); part++)
            {
                var next = await s.WaitForAsync(f => f.Type == "text" && f.Doc == doc, Reply, stop);
                if (next.Frame is not { Type: "text" } text) return (-1, 0);
                length += text.Text?.Length ?? 0;
            }
            return (frame.Rev ?? 0, length);
        }
    }
}
