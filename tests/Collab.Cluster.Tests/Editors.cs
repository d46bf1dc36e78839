using System.Collections.Concurrent;
using System.Text.Json;
using Collab.Ot;
using Collab.Testing;

namespace Collab.Cluster.Tests;

/// <summary>OT clients spread over front ends, recording every acknowledged token and when each client got its acks.</summary>
internal sealed class Editors : IAsyncDisposable
{
    private readonly List<OtConnection> connections = [];
    private readonly HashSet<OtConnection> retired = [];
    private readonly List<HostProcess> homes = [];

    public List<OtClientModel> Models { get; } = [];

    /// <summary>Acknowledged token → its revision.</summary>
    public ConcurrentDictionary<string, long> Acked { get; } = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<int, ConcurrentQueue<(long Seq, DateTime At)>> acksPerClient = new();

    /// <summary>Liveness as the browser keeps it (web/src/client/connection.ts defaults), for editors that must notice a hung front end.</summary>
    public static readonly TimeSpan LivenessSilence = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan LivenessTimeout = TimeSpan.FromSeconds(2);

    private bool keepLive;

    public static Task<Editors> ConnectAsync(LocalCluster cluster, string doc, int perFrontEnd, bool keepLive = false) =>
        ConnectAsync(cluster.FrontEnds, doc, perFrontEnd, keepLive);

    public static async Task<Editors> ConnectAsync(IReadOnlyList<HostProcess> frontEnds, string doc, int perFrontEnd, bool keepLive = false)
    {
        var editors = new Editors { keepLive = keepLive };
        foreach (var frontEnd in frontEnds)
        {
            for (var i = 0; i < perFrontEnd; i++)
            {
                var index = editors.Models.Count;
                var name = $"e{index}";
                var connection = await editors.OpenAsync(frontEnd, name);
                editors.homes.Add(frontEnd);
                var model = await OtClientModel.JoinAsync(connection, doc);
                var acks = editors.acksPerClient.GetOrAdd(index, _ => new ConcurrentQueue<(long, DateTime)>());
                model.Acked = (seq, rev) =>
                {
                    var token = $"[{name}-{seq}]";
                    editors.Acked[token] = rev;
                    acks.Enqueue((seq, DateTime.UtcNow));
                };
                editors.Models.Add(model);
            }
        }
        return editors;
    }

    /// <summary>Every client inserts unique tokens as fast as acks allow, until stopped.</summary>
    public Task TypeTokens(CancellationToken stop) =>
        Task.WhenAll(Models.Select((m, i) => Task.Run(() => Tokens.InsertUntilStoppedAsync(m, $"e{i}", new Random(i), stop))));

    public async Task WaitForAcksAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (Acked.Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"only {Acked.Count} of {count} ops were acknowledged");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until every client has had an op with a seq at or above <paramref name="seqs"/>[client] acknowledged, i.e.
    /// an op sent after the failure; returns when the last of them arrived.
    /// </summary>
    public async Task<DateTime> WaitUntilEveryClientAckedSeqAsync(long[] seqs, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var firsts = Enumerable.Range(0, Models.Count)
                .Select(i => acksPerClient[i].Where(a => a.Seq >= seqs[i]).Select(a => (DateTime?)a.At).Min())
                .ToArray();
            if (firsts.All(f => f is not null)) return firsts.Max()!.Value;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("clients without an ack of an op sent after the failure: " + string.Join(", ",
                    Enumerable.Range(0, Models.Count).Where(i => firsts[i] is null).Select(i => $"e{i} ({Describe(Models[i])})")));
            await Task.Delay(20);
        }
    }

    /// <summary>Moves every client whose socket dropped to <paramref name="frontEnd"/> (same clientId, join+rev); returns how many moved.</summary>
    public async Task<int> ResumeDroppedOnAsync(HostProcess frontEnd)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var dropped = Enumerable.Range(0, Models.Count).Where(i => homes[i].HasExited).ToList();
        foreach (var i in dropped)
        {
            await WaitClosedAsync(i, deadline, "noticed its front end died");
            await MoveAsync(i, frontEnd);
        }
        return dropped.Count;
    }

    /// <summary>
    /// Every client homed on <paramref name="from"/> waits until its own liveness check gives that front end up, then
    /// resumes on <paramref name="to"/> (same clientId, join+rev), as a browser behind a load balancer would; returns
    /// when each gave up.
    /// </summary>
    public async Task<DateTime[]> MoveWhenGivenUpAsync(HostProcess from, HostProcess to, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var homed = Enumerable.Range(0, Models.Count).Where(i => homes[i] == from).ToList();
        return await Task.WhenAll(homed.Select(async i =>
        {
            await WaitClosedAsync(i, deadline, "gave up its hung front end");
            var gaveUp = Models[i].Connection.GaveUpAt ?? DateTime.UtcNow;
            await MoveAsync(i, to);
            return gaveUp;
        }));
    }

    private async Task WaitClosedAsync(int i, DateTime deadline, string what)
    {
        while (!Models[i].Connection.IsClosed)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"e{i} never {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Retires client <paramref name="i"/>'s closed socket and resumes it on <paramref name="to"/>.</summary>
    private async Task MoveAsync(int i, HostProcess to)
    {
        lock (retired) retired.Add(Models[i].Connection);
        var connection = await OpenAsync(to, Models[i].ClientId);
        homes[i] = to;
        await Models[i].ResumeAsync(connection);
    }

    private async Task<OtConnection> OpenAsync(HostProcess frontEnd, string clientId)
    {
        var connection = await OtConnection.ConnectAsync(frontEnd.WebSocketUri, clientId);
        if (keepLive) connection.KeepLive(LivenessSilence, LivenessTimeout);
        lock (connections) connections.Add(connection);
        return connection;
    }

    public async Task WaitSynchronizedAsync(TimeSpan timeout)
    {
        foreach (var model in Models) await model.WaitUntilAsync(m => m.State.Synchronized, timeout, "all ops acknowledged");
    }

    /// <summary>Waits until every client has every op acknowledged and the server's revision; asserts they hold the server's text.</summary>
    public async Task<(string Text, long Rev)> SettleAsync(LocalCluster cluster, string doc, HostProcess? frontEnd = null)
    {
        await WaitSynchronizedAsync(TimeSpan.FromSeconds(60));
        var (text, rev) = await LocalCluster.ReadAsync(frontEnd ?? cluster.FrontEnds.First(f => !f.HasExited), doc);
        foreach (var model in Models)
        {
            await model.WaitUntilAsync(m => m.State.Rev >= rev, TimeSpan.FromSeconds(60), $"reaching rev {rev}");
            if (model.State.Text != text)
                throw new Xunit.Sdk.XunitException($"{model.ClientId} holds a different text at rev {model.State.Rev} than the server at rev {rev}");
        }
        // A socket to a front end that was killed closing is the failure under test, not a protocol problem.
        var problems = Models.SelectMany(m => m.Problems).Concat(connections.Where(c => !retired.Contains(c)).SelectMany(c => c.Problems)).ToList();
        if (problems.Count > 0) throw new Xunit.Sdk.XunitException("protocol problems seen by the clients:\n" + string.Join("\n", problems.Take(20)));
        return (text, rev);
    }

    /// <summary>
    /// <see cref="SettleAsync"/>, then the fault tests' audit: the stored history is one sequence without gaps or repeats
    /// that replays to the clients' text, every acknowledged token is in it exactly once, and no host saw an exception
    /// it could not decode.
    /// </summary>
    public async Task<(string Text, long Rev)> SettleAndAuditAsync(LocalCluster cluster, string doc)
    {
        var (text, rev) = await SettleAsync(cluster, doc);
        var (stored, revs) = await cluster.StoredHistoryAsync(doc);
        Xunit.Assert.Equal(Enumerable.Range(1, revs.Length).Select(r => (long)r), revs);
        Xunit.Assert.Equal(stored, text);
        var problems = Tokens.Audit(text, Acked.Keys);
        Xunit.Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
        // Every failure crossed the grain boundaries as an exception the other side could decode.
        Xunit.Assert.Empty(cluster.CodecFailures());
        return (text, rev);
    }

    /// <summary>The text obtained by applying every stored op from revision 0 (a join with rev 0).</summary>
    public static async Task<string> ReplayFromZeroAsync(HostProcess frontEnd, string doc)
    {
        await using var auditor = await TestClient.ConnectAsync(frontEnd.WebSocketUri, "auditor");
        var joined = await auditor.JoinAsync(doc, rev: 0);
        var text = "";
        var expected = 1L;
        foreach (var entry in joined.GetProperty("ops").EnumerateArray())
        {
            if (entry.GetProperty("rev").GetInt64() != expected++) throw new Xunit.Sdk.XunitException("the stored history has a gap or a repeat");
            text = TextOperation.Parse(entry.GetProperty("op").GetRawText()).Apply(text);
        }
        return text;
    }

    private static string Describe(OtClientModel model)
    {
        var s = model.State;
        return $"rev {s.Rev}, outstanding {s.OutstandingSeq}, retries {model.Retries}";
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in connections) await connection.DisposeAsync();
    }
}
