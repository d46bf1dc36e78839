using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// Gray failures on a real cluster (2 silos, 2 client-mode front ends, Redis, PostgreSQL) with editors typing: the silo
/// hosting their document is frozen with SIGSTOP, as a long GC pause or a VM migration freezes it, and later thawed.
/// The document must continue on the other silo within the bound docs/operations.md states, and once the frozen silo
/// wakes up its stale activation must neither append nor wedge the document: nothing acknowledged is lost or doubled.
/// </summary>
public sealed class FrozenSiloTests(ITestOutputHelper output)
{
    /// <summary>
    /// The goal, 5 s (docs/operations.md, "Tuning failure detection"): eviction (1 s × 2 probes, then the vote), ops stuck
    /// on the frozen silo cut after the 1 s submit timeout and resent, and for an ack whose notification the freeze lost,
    /// a 1 s feed call timeout and a resubscribe. Measured 2.4–3.4 s (3.4–5.2 s with a 1.5 s submit timeout).
    /// </summary>
    private static readonly TimeSpan StallBound = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private void Figure(string test, string line)
    {
        output.WriteLine(line);
        Report.Figure(test, line);
    }

    [Theory]
    [InlineData(20)]
    [InlineData(32)]
    public async Task A_frozen_silo_stalls_its_documents_briefly_and_wakes_up_without_wedging_them(int frozenSeconds)
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        var doc = $"frozen-{frozenSeconds}";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(40);

            var victim = await cluster.SiloOfAsync(doc);
            victim.Freeze();
            var frozenAt = DateTime.UtcNow;
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            output.WriteLine($"froze {victim.Name}, which hosted '{doc}', after {editors.Acked.Count} acked ops");

            // Every editor gets an op sent after the freeze acknowledged, by an activation on the other silo.
            var stalled = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, Settle) - frozenAt;
            var ackedWhileFrozen = editors.Acked.Count;
            var rest = TimeSpan.FromSeconds(frozenSeconds) - (DateTime.UtcNow - frozenAt);
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
            victim.Thaw();
            var thawedAt = DateTime.UtcNow;
            output.WriteLine($"thawed {victim.Name} after {frozenSeconds} s");

            // After the thaw every editor still gets acks: no stale activation wedges the document.
            var afterThaw = editors.Models.Select(m => m.NextSeq).ToArray();
            var resumed = await editors.WaitUntilEveryClientAckedSeqAsync(afterThaw, Settle) - thawedAt;
            await Task.Delay(TimeSpan.FromSeconds(2));
            await stop.CancelAsync();
            await typing;
            var (text, rev) = await editors.SettleAndAuditAsync(cluster, doc);
            Figure($"silo SIGSTOP {frozenSeconds} s", $"every editor acknowledged again {stalled.TotalMilliseconds:F0} ms after the freeze "
                + $"({ackedWhileFrozen} acked by then), {resumed.TotalMilliseconds:F0} ms after the thaw; acked ops {editors.Acked.Count}, lost 0, duplicated 0, final rev {rev}");
            Assert.True(stalled <= StallBound, $"the document stalled {stalled.TotalSeconds:F1} s (bound {StallBound.TotalSeconds} s)");
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
