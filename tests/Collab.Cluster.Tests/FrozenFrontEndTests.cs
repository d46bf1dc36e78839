using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// A front end that hangs (SIGSTOP: its sockets stay open, nothing is answered) on a real cluster with editors typing.
/// Editors keep liveness as the browser does (a live ping after 1 s of silence, given up 2 s after it) and resume on
/// the other front end; the ones already there never notice. When the frozen front end wakes up it serves again, and
/// nothing acknowledged is lost or doubled.
/// </summary>
public sealed class FrozenFrontEndTests(ITestOutputHelper output)
{
    /// <summary>
    /// The goal, 5 s (docs/operations.md, "Tuning failure detection"): at most 1.25 s of silence, a 2 s unanswered live
    /// ping (checked every 250 ms), then a new socket, a join and the resend.
    /// </summary>
    private static readonly TimeSpan StallBound = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Editors_leave_a_frozen_front_end_within_seconds_and_it_serves_again_after_the_thaw()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        const string doc = "frozen-front-end";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 2, keepLive: true);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(40);

            var (victim, other) = (cluster.FrontEnds[0], cluster.FrontEnds[1]);
            victim.Freeze();
            var frozenAt = DateTime.UtcNow;
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            output.WriteLine($"froze {victim.Name} after {editors.Acked.Count} acked ops");

            var gaveUp = await editors.MoveWhenGivenUpAsync(victim, other, TimeSpan.FromSeconds(30));
            var stalled = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, TimeSpan.FromSeconds(60)) - frozenAt;
            var noticed = gaveUp.Max() - frozenAt;

            var rest = TimeSpan.FromSeconds(20) - (DateTime.UtcNow - frozenAt);
            if (rest > TimeSpan.Zero) await Task.Delay(rest);
            victim.Thaw();
            output.WriteLine($"thawed {victim.Name} after 20 s");

            // The woken front end serves again: a new editor there joins and edits alongside the others.
            await using var late = await OtConnection.ConnectAsync(victim.WebSocketUri, "late");
            var lateModel = await OtClientModel.JoinAsync(late, doc);
            await lateModel.EditAsync(t => new Collab.Ot.TextOperationBuilder().Insert("[late-1]").Retain(t.Length).Build());
            await lateModel.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(30), "the late editor's op acknowledged");
            editors.Acked["[late-1]"] = lateModel.State.Rev;

            await Task.Delay(TimeSpan.FromSeconds(1));
            await stop.CancelAsync();
            await typing;
            var (text, rev) = await editors.SettleAndAuditAsync(cluster, doc);
            await lateModel.WaitUntilAsync(m => m.State.Rev >= rev, TimeSpan.FromSeconds(30), $"reaching rev {rev}");
            Assert.Equal(text, lateModel.State.Text);
            Assert.Contains("[late-1]", text, StringComparison.Ordinal);

            var line = $"editors gave the frozen front end up {noticed.TotalMilliseconds:F0} ms after the freeze, every editor acknowledged again "
                + $"{stalled.TotalMilliseconds:F0} ms after it; acked ops {editors.Acked.Count}, lost 0, duplicated 0, final rev {rev}";
            output.WriteLine(line);
            Report.Figure("front end SIGSTOP 20 s", line);
            Assert.True(stalled <= StallBound, $"editors stalled {stalled.TotalSeconds:F1} s (bound {StallBound.TotalSeconds} s)");
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
