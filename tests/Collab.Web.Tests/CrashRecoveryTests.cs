using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Collab.Ot;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>
/// Process-level durability: the real server (a child process) is SIGKILLed while clients have ops in flight, then
/// restarted on the same data folder. Every acknowledged op must be there exactly once, the op log must replay to the
/// stored text, and resent ops must not be applied twice.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output)
{
    private const string Doc = "crash-doc";
    private const int Clients = 4;
    private static readonly Regex Token = new(@"\[c(\d+)-(\d+)\]", RegexOptions.CultureInvariant);

    [Fact]
    public async Task Acked_ops_survive_a_SIGKILL_exactly_once_and_the_log_replays_to_the_stored_text()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "collab-crash-tests", Guid.NewGuid().ToString("N"));
        var acked = new ConcurrentDictionary<string, long>(StringComparer.Ordinal); // token → rev of its ack
        var connections = new List<OtConnection>();
        HostProcess? first = null, second = null;
        try
        {
            first = await StartServerAsync(dataPath);
            output.WriteLine($"first start: ready after {first.TimeToReady.TotalMilliseconds:F0} ms");

            var models = new OtClientModel[Clients];
            for (var i = 0; i < Clients; i++)
            {
                var connection = await OtConnection.ConnectAsync(first.WebSocketUri, $"c{i}");
                connections.Add(connection);
                models[i] = await OtClientModel.JoinAsync(connection, Doc);
                var client = i;
                models[i].Acked = (seq, rev) => acked[$"[c{client}-{seq}]"] = rev;
            }

            using var stop = new CancellationTokenSource();
            var editing = models.Select((m, i) => Task.Run(() => InsertTokensAsync(m, i, new Random(i), stop.Token))).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(2));

            // Kill while an op is in flight (one almost always is: each client sends its next token as soon as it is acked).
            var inFlightDeadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
            while (!models.Any(m => m.State.OutstandingSeq is not null) && DateTime.UtcNow < inFlightDeadline) await Task.Yield();
            first.Kill();
            var killedAt = Stopwatch.StartNew();
            var atKill = models.Select(m => (m.State.OutstandingSeq, Frame: m.LastSentFrame)).ToArray();
            var ackedBeforeKill = new Dictionary<string, long>(acked, StringComparer.Ordinal);
            stop.Cancel();
            await Task.WhenAll(editing).WaitAsync(TimeSpan.FromSeconds(10));
            var inFlight = atKill.Count(a => a.OutstandingSeq is not null);
            output.WriteLine($"acked before the kill: {ackedBeforeKill.Count} ops (max rev {ackedBeforeKill.Values.DefaultIfEmpty().Max()}), in flight at the kill: {inFlight}");
            Assert.True(ackedBeforeKill.Count > 20, $"too few ops were acked before the kill ({ackedBeforeKill.Count}) for the test to mean anything");
            Assert.True(inFlight > 0, "no op was in flight when the server was killed");

            second = await StartServerAsync(dataPath);
            output.WriteLine($"restart: ready after {second.TimeToReady.TotalMilliseconds:F0} ms from process start ({killedAt.ElapsedMilliseconds} ms after the kill)");
            Report.Figure("embedded SIGKILL", $"{ackedBeforeKill.Count} ops acked before the kill, {inFlight} in flight; restart ready in {second.TimeToReady.TotalMilliseconds:F0} ms");

            // 1. Every acked token is there exactly once, nothing is torn, the revision did not go back.
            using var http = second.Http();
            var (text, rev) = await GetDocumentAsync(http);
            var counts = CountTokens(text);
            Assert.True(Token.Replace(text, "").Length == 0, $"the text holds something other than whole tokens: {Excerpt(Token.Replace(text, "|"))}");
            var duplicated = counts.Where(c => c.Value > 1).Select(c => c.Key).ToList();
            Assert.True(duplicated.Count == 0, $"tokens applied more than once: {string.Join(", ", duplicated)}");
            var lost = ackedBeforeKill.Keys.Where(t => !counts.ContainsKey(t)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} acked ops were lost by the crash: {string.Join(", ", lost.Take(20))}");
            var maxAcked = ackedBeforeKill.Values.Max();
            Assert.True(rev >= maxAcked, $"the restarted server is at rev {rev}, but rev {maxAcked} had been acked");
            output.WriteLine($"after restart: rev {rev}, {counts.Count} tokens ({counts.Count - ackedBeforeKill.Count} committed but unacked before the kill)");

            // 2. The log agrees with the stored text: replaying every op from rev 0 gives the text at the same rev.
            await AssertLogReplaysToTextAsync(second, text, rev);

            // 3. The clients resume (join with their last rev): an op found in joined.ops is acked, any other is resent with its seq.
            var outcomes = new List<string>();
            for (var i = 0; i < Clients; i++)
            {
                var connection = await OtConnection.ConnectAsync(second.WebSocketUri, $"c{i}");
                connections.Add(connection);
                await models[i].ResumeAsync(connection);
                outcomes.Add($"c{i}: {models[i].LastResumeOutcome}");
            }
            foreach (var model in models)
                await model.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(10), "ack of the op in flight at the kill");
            output.WriteLine("resume: " + string.Join(", ", outcomes));
            Report.Figure("embedded SIGKILL", "acked ops lost: 0, duplicated: 0 (audited after restart and resume)");

            (text, rev) = await GetDocumentAsync(http);
            counts = CountTokens(text);
            duplicated = counts.Where(c => c.Value > 1).Select(c => c.Key).ToList();
            Assert.True(duplicated.Count == 0, $"tokens applied more than once after resuming: {string.Join(", ", duplicated)}");
            lost = acked.Keys.Where(t => !counts.ContainsKey(t)).ToList();
            Assert.True(lost.Count == 0, $"acked ops missing after resuming: {string.Join(", ", lost.Take(20))}");
            for (var i = 0; i < Clients; i++)
                if (atKill[i].OutstandingSeq is { } seq)
                    Assert.True(acked.ContainsKey($"[c{i}-{seq}]"), $"the op c{i} had in flight (seq {seq}) was never acknowledged after resuming");
            foreach (var model in models)
            {
                await model.WaitUntilAsync(m => m.State.Rev >= rev, TimeSpan.FromSeconds(10), $"reaching rev {rev}");
                Assert.Equal(text, model.State.Text);
            }
            var problems = models.SelectMany(m => m.Problems).Concat(connections.Skip(Clients).SelectMany(c => c.Problems)).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));

            // 4. A blind resend of the op that was in flight (same seq, same base rev, same op) on a new socket is
            //    answered with its original rev and changes nothing.
            for (var i = 0; i < Clients; i++)
            {
                if (atKill[i].OutstandingSeq is not { } seq) continue;
                await using var raw = await TestClient.ConnectAsync(second.WebSocketUri, $"c{i}");
                await raw.JoinAsync(Doc);
                await raw.SendRawAsync(atKill[i].Frame!);
                var answer = await raw.WaitForAsync("ack", null, TimeSpan.FromSeconds(5));
                Assert.Equal(seq, answer.GetProperty("seq").GetInt64());
                Assert.Equal(acked[$"[c{i}-{seq}]"], answer.GetProperty("rev").GetInt64());
            }
            var (finalText, finalRev) = await GetDocumentAsync(http);
            Assert.Equal(rev, finalRev);
            Assert.Equal(text, finalText);
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
            first?.Dispose();
            second?.Dispose();
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    /// <summary>Inserts <c>[c{client}-{seq}]</c> at a random token boundary each time the previous op is acked.</summary>
    private static async Task InsertTokensAsync(OtClientModel model, int client, Random random, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await model.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(30), "ack", stop);
                if (stop.IsCancellationRequested || model.Connection.IsClosed) return;
                await model.EditAsync(text =>
                {
                    var boundaries = new List<int> { 0 };
                    for (var p = text.IndexOf(']', StringComparison.Ordinal); p >= 0; p = text.IndexOf(']', p + 1)) boundaries.Add(p + 1);
                    var at = boundaries[random.Next(boundaries.Count)];
                    var seq = model.NextSeq;
                    return new TextOperationBuilder().Retain(at).Insert($"[c{client}-{seq}]").Retain(text.Length - at).Build();
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task AssertLogReplaysToTextAsync(HostProcess server, string text, long rev)
    {
        await using var fresh = await TestClient.ConnectAsync(server.WebSocketUri, "auditor");
        var joined = await fresh.JoinAsync(Doc, rev: 0);
        Assert.True(joined.TryGetProperty("ops", out var ops), $"join with rev 0 returned no ops: {Excerpt(joined.GetRawText())}");
        Assert.Equal(0, joined.GetProperty("since").GetInt64());
        var replayed = "";
        long expected = 1;
        foreach (var entry in ops.EnumerateArray())
        {
            Assert.Equal(expected++, entry.GetProperty("rev").GetInt64());
            replayed = TextOperation.Parse(entry.GetProperty("op")).Apply(replayed);
        }
        Assert.Equal(rev, joined.GetProperty("rev").GetInt64());
        Assert.Equal(rev, expected - 1);
        Assert.True(replayed == text, $"the op log replays to a different text than the stored one:\nlog:  {Excerpt(replayed)}\ntext: {Excerpt(text)}");
        output.WriteLine($"log replay: {rev} ops from rev 0 give the stored text");
    }

    private static async Task<(string Text, long Rev)> GetDocumentAsync(HttpClient http)
    {
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{Doc}");
        return (state.GetProperty("text").GetString()!, state.GetProperty("rev").GetInt64());
    }

    private static Dictionary<string, int> CountTokens(string text)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Token.Matches(text)) counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        return counts;
    }

    private static string Excerpt(string s) => s.Length <= 300 ? s : s[..300] + $"... ({s.Length} chars)";

    /// <summary>src/Collab.Web's build output as a child process, snapshotting every 100 ops so a restart loads a snapshot plus a log tail.</summary>
    private static Task<HostProcess> StartServerAsync(string dataPath) => HostProcess.StartAsync("Collab.Web",
    [
        "--Collab:Storage:DataPath", dataPath,
        "--Collab:Cluster:SiloPort", HostProcess.Port(RepoPaths.FreePort()),
        "--Collab:Cluster:ClusterId", "crash-" + Guid.NewGuid().ToString("N"),
        "--Collab:Documents:SnapshotEvery", "100",
        "--Collab:Documents:MaxCatchUpOps", "1000000",
        "--Logging:LogLevel:Default", "Warning",
    ]);
}
