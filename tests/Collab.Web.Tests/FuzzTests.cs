using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Collab.Ot;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>
/// Protocol fuzzing: hostile sockets throw thousands of random and mutated frames at the server while honest OT
/// clients edit. Each hostile frame is followed by a ping; everything the server says before the pong is that frame's
/// answer, so every frame is accounted for: an error, a close, or (for a frame that happens to be valid) its normal
/// answer. The seed is printed (COLLAB_SEED replays one).
/// </summary>
public sealed class FuzzTests(ITestOutputHelper output)
{
    private const int HostileSockets = 4;
    private const int HonestClients = 3;
    private const int TargetFrames = 20_000;
    private static readonly TimeSpan FuzzFor = TimeSpan.FromSeconds(15);
    private const string SharedDoc = "fuzz-shared";

    [Fact]
    public async Task Thousands_of_hostile_frames_each_get_an_error_or_a_close_while_honest_editors_converge_without_corruption()
    {
        var seed = Seeds.Replay ?? 5005;
        output.WriteLine($"seed {seed}");
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:MaxMessageBytes"] = FuzzTestsLimits.MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Collab:FrontEnd:MessagesPerSecond"] = "1000000",
            ["Collab:FrontEnd:MessageBurst"] = "1000000",
            ["Collab:Documents:MaxCatchUpOps"] = "1000000",
            ["Collab:Documents:MaxCatchUpBytes"] = "1000000000",
        });

        var connections = new List<OtConnection>();
        var honest = new List<OtClientModel>();
        for (var i = 0; i < HonestClients; i++)
        {
            var connection = await OtConnection.ConnectAsync(server.WebSocketUri, $"honest{i}");
            connections.Add(connection);
            honest.Add(await OtClientModel.JoinAsync(connection, SharedDoc));
        }
        var captured = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource(FuzzFor);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var editing = honest.Select((m, i) => EditUntilAsync(m, new Random(seed * 7 + i), captured, stop.Token)).ToList();
            var health = WatchHealthAsync(server, stop.Token);
            var budget = new StrongBox(TargetFrames);
            var hostile = Enumerable.Range(0, HostileSockets)
                .Select(k => new HostileSocket(server.WebSocketUri, k, new Random(seed + k), captured, budget).RunAsync(stop.Token))
                .ToList();
            var tallies = await Task.WhenAll(hostile);
            await stop.CancelAsync();
            await Task.WhenAll(editing);
            var healthChecks = await health;
            var elapsed = stopwatch.Elapsed;

            using (var http = server.Http())
                Assert.Equal("ok", (await http.GetStringAsync("/healthz")).Trim());

            var total = Tally.Sum(tallies);
            foreach (var (tally, k) in tallies.Select((t, k) => (t, k))) output.WriteLine($"hostile socket {k}: {tally}");
            output.WriteLine($"all: {total}; {healthChecks} /healthz checks passed during the run; {elapsed.TotalSeconds:F1} s");
            foreach (var (kind, n) in total.Kinds.OrderByDescending(p => p.Value)) output.WriteLine($"  {kind}: {n}");
            Report.Figure("fuzz", $"seed {seed}: {total.Sent} hostile frames in {elapsed.TotalSeconds:F1} s from {HostileSockets} sockets ({total.Sockets} connections): " +
                $"{total.Errors} errors + {total.Closed} closes ({string.Join(", ", total.CloseCodes.OrderBy(p => p.Key).Select(p => $"{p.Value}×{p.Key}"))}) + {total.Accepted} valid by chance = {total.Errors + total.Closed + total.Accepted}; silent drops {total.Silent}");

            foreach (var problem in total.Problems.Take(30)) output.WriteLine(problem);
            foreach (var tally in tallies)
                Assert.True(tally.Sent == tally.Errors + tally.Closed + tally.Accepted, $"seed {seed}: frames unaccounted for: {tally}");
            Assert.True(total.Problems.IsEmpty, $"seed {seed}:\n{string.Join("\n", total.Problems.Take(30))}");
            Assert.True(total.Sent >= 2000, $"seed {seed}: only {total.Sent} hostile frames were sent");

            // The honest editors converge with the server.
            foreach (var model in honest) await model.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(20), $"seed {seed}: acknowledgement of every own op");
            using var api = server.Http();
            var state = await api.GetFromJsonAsync<JsonElement>($"/api/docs/{SharedDoc}");
            var rev = state.GetProperty("rev").GetInt64();
            var text = state.GetProperty("text").GetString()!;
            foreach (var model in honest) await model.WaitUntilAsync(m => m.State.Rev >= rev, TimeSpan.FromSeconds(20), $"seed {seed}: reaching rev {rev}");
            var problems = honest.SelectMany(m => m.Problems).Concat(connections.SelectMany(c => c.Problems)).ToList();
            Assert.True(problems.Count == 0, $"seed {seed}: honest clients saw:\n{string.Join("\n", problems.Take(20))}");
            foreach (var model in honest) Assert.Equal((text, rev), (model.State.Text, model.State.Rev));

            // Replaying the whole history gives the stored text: nothing the hostile sockets sent corrupted the log.
            await using var replay = await server.ConnectAsync("replayer");
            var joined = await replay.JoinAsync(SharedDoc, rev: 0);
            var replayed = "";
            var count = 0;
            // What does not fit one joined frame follows as op frames.
            var entries = joined.GetProperty("ops").EnumerateArray().ToList();
            while (entries.Count < rev) entries.Add(await replay.WaitForAsync("op"));
            foreach (var entry in entries)
            {
                replayed = TextOperation.Parse(entry.GetProperty("op")).Apply(replayed);
                Assert.Equal(++count, entry.GetProperty("rev").GetInt64());
            }
            Assert.Equal(rev, count);
            Assert.Equal(text, replayed);
            output.WriteLine($"{SharedDoc}: rev {rev}, {text.Length} UTF-16 units; history replayed from rev 0 matches");
            Report.Figure("fuzz", $"seed {seed}: {HonestClients} honest editors committed alongside to rev {rev}, converged, and the history replayed from rev 0 equals the stored text");
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
    }

    private static async Task EditUntilAsync(OtClientModel model, Random random, ConcurrentQueue<string> captured, CancellationToken stop)
    {
        await Task.Yield();
        while (!stop.IsCancellationRequested)
        {
            await model.EditAsync(text => RandomEdits.Next(random, text));
            if (model.LastSentFrame is { } frame && captured.Count < 512) captured.Enqueue(frame);
            await Task.Delay(3 + random.Next(10), CancellationToken.None);
        }
    }

    private static async Task<int> WatchHealthAsync(CollabServer server, CancellationToken stop)
    {
        using var http = server.Http();
        var passed = 0;
        while (!stop.IsCancellationRequested)
        {
            using var response = await http.GetAsync(new Uri("/healthz", UriKind.Relative), CancellationToken.None);
            Assert.True(response.IsSuccessStatusCode, $"/healthz answered {(int)response.StatusCode} during the fuzzing");
            passed++;
            await Task.Delay(250, CancellationToken.None);
        }
        return passed;
    }

    /// <summary>A counter shared by the hostile sockets: how many frames are left to send.</summary>
    private sealed class StrongBox(int value)
    {
        private int left = value;

        public bool TryTake() => Interlocked.Decrement(ref left) >= 0;
    }

    /// <summary>What one hostile socket sent and what came back.</summary>
    private sealed class Tally
    {
        public int Sent { get; set; }
        public int Errors { get; set; }
        public int Closed { get; set; }
        public int Accepted { get; set; }
        public int Silent { get; set; }
        public int Sockets { get; set; }
        public Dictionary<string, int> Kinds { get; } = [];
        public Dictionary<int, int> CloseCodes { get; } = [];
        public ConcurrentQueue<string> Problems { get; } = new();

        public static Tally Sum(IEnumerable<Tally> tallies)
        {
            var sum = new Tally();
            foreach (var t in tallies)
            {
                sum.Sent += t.Sent;
                sum.Errors += t.Errors;
                sum.Closed += t.Closed;
                sum.Accepted += t.Accepted;
                sum.Silent += t.Silent;
                sum.Sockets += t.Sockets;
                foreach (var (k, v) in t.Kinds) sum.Kinds[k] = sum.Kinds.GetValueOrDefault(k) + v;
                foreach (var (k, v) in t.CloseCodes) sum.CloseCodes[k] = sum.CloseCodes.GetValueOrDefault(k) + v;
                foreach (var p in t.Problems) sum.Problems.Enqueue(p);
            }
            return sum;
        }

        public override string ToString() =>
            $"sent {Sent} = errors {Errors} + closes {Closed} + valid {Accepted} (silent {Silent}) over {Sockets} connections";
    }

    /// <summary>One hostile client: reconnects whenever the server closes it, and accounts for every frame it sends.</summary>
    private sealed class HostileSocket(Uri uri, int index, Random random, ConcurrentQueue<string> captured, StrongBox budget)
    {
        private readonly Tally tally = new();
        private readonly HashSet<string> joinedDocs = new(StringComparer.Ordinal);
        private bool welcomed;
        private long barrier;
        private long uniqueSeq = 1_000_000_000_000;

        private string OwnDoc => $"fuzz-own-{index}";

        public async Task<Tally> RunAsync(CancellationToken stop)
        {
            await Task.Yield();
            var more = true;
            while (more)
            {
                await using var client = await ConnectAsync();
                while (true)
                {
                    if (stop.IsCancellationRequested || !budget.TryTake())
                    {
                        more = false;
                        break;
                    }
                    var frame = FuzzFrames.Next(random, captured, OwnDoc, SharedDoc, ++uniqueSeq);
                    tally.Sent++;
                    tally.Kinds[frame.Kind] = tally.Kinds.GetValueOrDefault(frame.Kind) + 1;
                    if (!await SendAndAccountAsync(client, frame)) break; // closed: reconnect
                }
            }
            return tally;
        }

        private async Task<TestClient> ConnectAsync()
        {
            tally.Sockets++;
            joinedDocs.Clear();
            welcomed = false;
            var clientId = $"hostile{index}-{tally.Sockets}";
            var client = await TestClient.OpenAsync(uri, clientId);
            // Most connections say hello and join the shared document (so hostile ops meet the honest ones); some stay
            // anonymous, so the checks before hello are hit too.
            if (random.Next(5) == 0) return client;
            await client.SendAsync(new { type = "hello", clientId });
            await client.ExpectAsync("welcome");
            welcomed = true;
            foreach (var doc in new[] { SharedDoc, OwnDoc })
            {
                await client.SendAsync(new { type = "join", doc });
                await client.WaitForAsync("joined", j => j.GetProperty("doc").GetString() == doc);
                joinedDocs.Add(doc);
            }
            return client;
        }

        /// <summary>Sends one fuzz frame and a ping behind it; returns false when the socket closed.</summary>
        private async Task<bool> SendAndAccountAsync(TestClient client, FuzzFrame frame)
        {
            var t = $"barrier-{index}-{++barrier}";
            try
            {
                await frame.SendAsync(client.Socket);
                await client.SendRawAsync($"{{\"type\":\"ping\",\"t\":\"{t}\"}}");
            }
            catch (Exception e) when (e is WebSocketException or InvalidOperationException or ObjectDisposedException or OperationCanceledException or IOException)
            {
                // The server closed the socket while we were sending: the close is the answer (read below).
            }

            var errors = 0;
            var answers = 0;
            while (true)
            {
                JsonElement next;
                try
                {
                    next = await client.NextAsync(TimeSpan.FromSeconds(10));
                }
                catch (InvalidOperationException)
                {
                    return Closed(client, frame, errors);
                }
                catch (TimeoutException)
                {
                    tally.Problems.Enqueue($"socket {index}: no pong within 10 s after {frame}");
                    tally.Silent++;
                    client.Socket.Abort();
                    return false;
                }
                var type = next.GetProperty("type").GetString();
                if (type == "pong" && next.TryGetProperty("t", out var pt) && pt.ValueKind == JsonValueKind.String && pt.GetString() == t) break;
                if (type == "error") errors++;
                else if (Answer(type, next)) answers++;
            }

            if (errors > 1) tally.Problems.Enqueue($"socket {index}: {errors} errors for one frame: {frame}");
            if (errors > 0)
            {
                tally.Errors++;
                return true;
            }
            if (answers > 0 || frame.IsSilentWhenValid(welcomed, joinedDocs))
            {
                Accept(frame);
                return true;
            }

            // An op whose commit finished after the pong is answered by its ack from the document's stream.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (DateTime.UtcNow < deadline)
            {
                JsonElement next;
                try
                {
                    next = await client.NextAsync(deadline - DateTime.UtcNow);
                }
                catch (InvalidOperationException)
                {
                    return Closed(client, frame, 0);
                }
                catch (TimeoutException)
                {
                    break;
                }
                var type = next.GetProperty("type").GetString();
                if (type == "error")
                {
                    tally.Errors++;
                    return true;
                }
                if (type == "ack")
                {
                    Accept(frame);
                    return true;
                }
            }
            tally.Silent++;
            tally.Problems.Enqueue($"socket {index}: silent drop (no error, no answer, no close): {frame}");
            return true;
        }

        private void Accept(FuzzFrame frame)
        {
            tally.Accepted++;
            if (frame.CertainlyBad) tally.Problems.Enqueue($"socket {index}: a certainly bad frame was accepted: {frame}");
        }

        /// <summary>welcome, joined, left, ack, pong: the normal answers of a frame that happened to be valid.</summary>
        private bool Answer(string? type, JsonElement frame)
        {
            switch (type)
            {
                case "welcome":
                    welcomed = true;
                    return true;
                case "joined":
                    joinedDocs.Add(frame.GetProperty("doc").GetString()!);
                    return true;
                case "left":
                    joinedDocs.Remove(frame.GetProperty("doc").GetString()!);
                    return true;
                case "ack" or "pong":
                    return true;
                default:
                    return false; // op broadcasts and presence of others: background traffic
            }
        }

        private bool Closed(TestClient client, FuzzFrame frame, int errorsBefore)
        {
            tally.Closed++;
            var code = (int?)client.CloseStatus ?? 1006;
            tally.CloseCodes[code] = tally.CloseCodes.GetValueOrDefault(code) + 1;
            // Invalid UTF-8 in a text frame is refused by the WebSocket layer itself (close 1007) before collab.v1 sees
            // the frame; that close can cross the ping sent behind the frame, and then the client sees a reset (1006).
            var utf8 = frame.Kind.EndsWith("invalid-utf8", StringComparison.Ordinal) && code is 1006 or 1007;
            if (!utf8 && code is not (1002 or 1009 or 1011) and not (>= 4000 and <= 4999))
                tally.Problems.Enqueue($"socket {index}: closed with {code} after {frame} ({errorsBefore} errors first)");
            // 1011 is an allowed close, but one caused by a client's frame means the server failed on input it should refuse.
            if (code == 1011) tally.Problems.Enqueue($"socket {index}: the server failed (1011) on {frame}");
            return false;
        }
    }
}
