using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// A real cluster on this machine — 2 silos, 2 client-mode front ends, redis-server, PostgreSQL — and what happens when
/// parts of it die. The tests of this class run one after another (each starts its own cluster).
/// </summary>
public sealed class ClusterTests(ITestOutputHelper output)
{
    /// <summary>A figure for the test output and for the run's figures file.</summary>
    private void Figure(string test, string line)
    {
        output.WriteLine(line);
        Report.Figure(test, line);
    }

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Clients_spread_over_two_front_ends_converge()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        const string doc = "spread";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 3);
        try
        {
            var random = new Random(7);
            await Task.WhenAll(editors.Models.Select((m, i) => RandomEdits.TypeAsync(m, new Random(random.Next() + i), 30)));
            var (text, rev) = await editors.SettleAsync(cluster, doc);
            var (other, otherRev) = await LocalCluster.ReadAsync(cluster.FrontEnds[1], doc);

            Assert.Equal((text, rev), (other, otherRev));
            Figure("cluster convergence", $"{editors.Models.Count} clients on 2 front ends converged at rev {rev} ({text.Length} chars)");
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
        finally
        {
            await editors.DisposeAsync();
        }
    }

    [Fact]
    public async Task Killing_the_silo_that_hosts_a_busy_document_loses_no_acknowledged_op()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        const string doc = "failover";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(40);

            var victim = await cluster.SiloOfAsync(doc);
            var ackedBefore = editors.Acked.Count;
            victim.Kill(); // SIGKILL, and waits until the process is gone
            var killedAt = DateTime.UtcNow;
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            output.WriteLine($"killed {victim.Name}, which hosted '{doc}', after {ackedBefore} acked ops");

            // Every client must get an op it sent after the kill acknowledged: the document reactivates on the surviving silo.
            var recovery = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, Settle) - killedAt;
            Figure("silo SIGKILL", $"recovery: every client had an op sent after the kill acknowledged {recovery.TotalMilliseconds:F0} ms after the kill");
            var survivor = cluster.Silos.Single(s => s != victim);
            Assert.Equal(survivor, await cluster.SiloOfAsync(doc));

            await stop.CancelAsync();
            await typing;
            var (text, rev) = await editors.SettleAsync(cluster, doc);
            var problems = Tokens.Audit(text, editors.Acked.Keys);
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
            Figure("silo SIGKILL", $"acked ops: {editors.Acked.Count}, lost: 0, duplicated: 0, final rev {rev}");
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
        finally
        {
            await editors.DisposeAsync();
        }
    }

    [Fact]
    public async Task Killing_a_front_end_moves_its_clients_to_the_other_without_loss()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        const string doc = "frontend-loss";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(30);

            var victim = cluster.FrontEnds[0];
            victim.Kill();
            var killedAt = DateTime.UtcNow;
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            output.WriteLine($"killed {victim.Name} after {editors.Acked.Count} acked ops");

            // Its clients notice the dropped socket and resume on the other front end with join+rev.
            var moved = await editors.ResumeDroppedOnAsync(cluster.FrontEnds[1]);
            Assert.Equal(2, moved);
            var recovery = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, Settle) - killedAt;
            Figure("front-end SIGKILL", $"recovery: every client had an op sent after the kill acknowledged {recovery.TotalMilliseconds:F0} ms after the kill");

            await stop.CancelAsync();
            await typing;
            var (text, rev) = await editors.SettleAsync(cluster, doc, cluster.FrontEnds[1]);
            var problems = Tokens.Audit(text, editors.Acked.Keys);
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
            Figure("front-end SIGKILL", $"acked ops: {editors.Acked.Count}, lost: 0, duplicated: 0, final rev {rev}");
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
        finally
        {
            await editors.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_activations_of_one_document_cannot_both_append()
    {
        // A second cluster with its own membership over the same PostgreSQL schema hosts a second activation of the
        // same document, as a split brain would. The revision fence must keep one linear history.
        await using var cluster = await LocalCluster.StartAsync(output, silos: 1, frontEnds: 1);
        await using var rival = await cluster.StartRivalAsync();
        const string doc = "split-brain";
        var editors = await Editors.ConnectAsync([cluster.FrontEnds[0], rival.FrontEnds[0]], doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(60);
            await stop.CancelAsync();
            await typing;
            await editors.WaitSynchronizedAsync(Settle);

            // Whatever each activation believes, the stored history is one sequence without gaps or repeats, and every
            // acknowledged op is in it exactly once.
            var (stored, revs) = await cluster.StoredHistoryAsync(doc);
            Assert.Equal(Enumerable.Range(1, revs.Length).Select(r => (long)r), revs);
            var problems = Tokens.Audit(stored, editors.Acked.Keys);
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
            Assert.True(editors.Models.Sum(m => m.Retries) > 0, "no op ever lost the fence: the two activations never competed");

            // Each activation serves a state of that one history: the one that wrote last serves its end.
            var (text, rev) = await LocalCluster.ReadAsync(cluster.FrontEnds[0], doc);
            var (rivalText, rivalRev) = await LocalCluster.ReadAsync(rival.FrontEnds[0], doc);
            Assert.True(Math.Max(rev, rivalRev) == revs.Length, $"neither activation is at the stored head {revs.Length} ({rev}, {rivalRev})");
            Assert.Equal(stored, rev > rivalRev ? text : rivalText);
            Figure("two activations", $"{editors.Acked.Count} acked ops, {editors.Models.Sum(m => m.Retries)} resends after a lost fence, "
                + $"one stored history of {revs.Length} revisions; activations read rev {rev} and {rivalRev}");
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
        finally
        {
            await editors.DisposeAsync();
        }
    }
}
