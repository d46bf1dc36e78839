using System.Diagnostics;
using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// The membership store lost on a real cluster with editors typing: Redis killed for 15 s and started again empty (as
/// the README's Redis without persistence comes back). Editing goes on during the outage; afterwards each silo finds its
/// membership row gone, exits with code 75 and is restarted by its supervisor (here the test, as systemd or App Service
/// would), and the whole cluster is ready again within 30 s with nothing acknowledged lost or doubled.
/// </summary>
public sealed class MembershipLossTests(ITestOutputHelper output)
{
    /// <summary>docs/operations.md, "What happens when something fails": every host ready again this soon after Redis returns.</summary>
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Redis_restarted_empty_heals_without_an_operator_every_host_ready_within_30_s_and_nothing_lost()
    {
        await using var cluster = await LocalCluster.StartAsync(output);
        const string doc = "membership-loss";
        var editors = await Editors.ConnectAsync(cluster, doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(40);

            cluster.Redis.Kill();
            var ackedAtKill = editors.Acked.Count;
            await Task.Delay(TimeSpan.FromSeconds(15));
            var ackedDuringOutage = editors.Acked.Count - ackedAtKill;
            output.WriteLine($"Redis down 15 s: {ackedDuringOutage} ops acknowledged meanwhile");
            Assert.True(ackedDuringOutage > 0, "editing stopped while Redis was down");

            await cluster.Redis.StartEmptyAsync();
            var back = Stopwatch.StartNew();
            var restarts = new List<(string Name, int ExitCode)>();
            var ready = false;
            while (back.Elapsed < TimeSpan.FromSeconds(90))
            {
                restarts.AddRange(await cluster.RestartExitedSilosAsync());
                if (await EveryHostReadyAsync(cluster)) { ready = true; break; }
                await Task.Delay(250);
            }
            var readyAfter = back.Elapsed;
            output.WriteLine($"ready again {readyAfter.TotalSeconds:F1} s after Redis returned; restarted: {string.Join(", ", restarts.Select(r => $"{r.Name} (exit {r.ExitCode})"))}");
            Assert.True(ready, $"the cluster was not ready {back.Elapsed.TotalSeconds:F0} s after Redis returned");
            Assert.All(restarts, r => Assert.Equal(75, r.ExitCode));

            // Editing goes on: every editor gets an op sent from now on acknowledged.
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            var readyAt = DateTime.UtcNow;
            var resumed = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, TimeSpan.FromSeconds(60)) - readyAt;
            await Task.Delay(TimeSpan.FromSeconds(1));
            await stop.CancelAsync();
            await typing;
            var (text, rev) = await editors.SettleAndAuditAsync(cluster, doc);
            var line = $"Redis killed 15 s, back empty: {ackedDuringOutage} ops acknowledged during the outage; {restarts.Count} silo restart(s) (exit 75); "
                + $"every host ready {readyAfter.TotalSeconds:F1} s after Redis returned, every editor acknowledged {resumed.TotalMilliseconds:F0} ms later; acked ops {editors.Acked.Count}, lost 0, duplicated 0, final rev {rev}";
            output.WriteLine(line);
            Report.Figure("membership loss", line);
            Assert.True(readyAfter <= ReadyWithin, line);
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

    /// <summary>Every silo and front end answers /readyz 200 and sees every silo.</summary>
    private static async Task<bool> EveryHostReadyAsync(LocalCluster cluster)
    {
        foreach (var host in cluster.Silos.Concat(cluster.FrontEnds))
        {
            try
            {
                using var http = host.Http();
                http.Timeout = TimeSpan.FromSeconds(5);
                using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode || !body.Contains($"{cluster.Silos.Count} silo(s)", StringComparison.Ordinal)) return false;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                return false;
            }
        }
        return true;
    }
}
