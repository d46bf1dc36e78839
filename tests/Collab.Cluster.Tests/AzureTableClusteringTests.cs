using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// The clustering path the Azure deployment uses (<c>Collab:Cluster:Clustering=AzureTable</c>), offline: membership in
/// Azurite's table service, documents in PostgreSQL, 2 silos and a client-mode front end as real processes.
/// </summary>
public sealed class AzureTableClusteringTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    private void Figure(string line)
    {
        output.WriteLine(line);
        Report.Figure("azure table membership", line);
    }

    [Fact]
    public async Task Silos_and_a_front_end_cluster_through_Azure_Table_membership_and_survive_a_silo_kill()
    {
        await using var cluster = await AzureTableCluster.StartAsync(output);
        var frontEnd = cluster.FrontEnd;
        try
        {
            // Membership: both silos wrote themselves into OrleansSiloInstances as Active, under this cluster id.
            var rows = await cluster.MembershipAsync();
            Assert.Equal(cluster.SiloPorts.Values.Order(), rows.Where(r => r.Status == "Active").Select(r => r.Port).Order());
            Figure($"2 silos and a client-mode front end ready in {cluster.StartTime.TotalMilliseconds:F0} ms; "
                + $"membership table: {rows.Count(r => r.Status == "Active")} Active silo rows");

            // Two OT clients editing concurrently through the front end converge.
            const string shared = "azure-converge";
            await using (var editors = await Editors.ConnectAsync([frontEnd], shared, perFrontEnd: 2))
            {
                await Task.WhenAll(editors.Models.Select((m, i) => RandomEdits.TypeAsync(m, new Random(11 + i), 30)));
                var (text, rev) = await SettleAsync(editors, frontEnd, shared);
                Figure($"{editors.Models.Count} clients converged at rev {rev} ({text.Length} chars)");
            }

            // Kill the silo hosting a busy document: it reactivates on the other one, found through the same table.
            const string doc = "azure-failover";
            await using var typists = await Editors.ConnectAsync([frontEnd], doc, perFrontEnd: 2);
            using var stop = new CancellationTokenSource();
            var typing = typists.TypeTokens(stop.Token);
            await typists.WaitForAcksAsync(40);
            var victim = await cluster.SiloOfAsync(doc);
            victim.Kill();
            var killedAt = DateTime.UtcNow;
            var nextSeqs = typists.Models.Select(m => m.NextSeq).ToArray();
            output.WriteLine($"killed {victim.Name}, which hosted '{doc}', after {typists.Acked.Count} acked ops");

            var recovery = await typists.WaitUntilEveryClientAckedSeqAsync(nextSeqs, Settle) - killedAt;
            Figure($"silo SIGKILL: every client had an op sent after the kill acknowledged {recovery.TotalMilliseconds:F0} ms after the kill");
            var survivor = cluster.Silos.Single(s => s != victim);
            Assert.Equal(survivor, await cluster.SiloOfAsync(doc));

            await stop.CancelAsync();
            await typing;
            var (final, finalRev) = await SettleAsync(typists, frontEnd, doc);
            var problems = Tokens.Audit(final, typists.Acked.Keys);
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
            Figure($"silo SIGKILL: acked ops {typists.Acked.Count}, lost 0, duplicated 0, final rev {finalRev}");

            // The survivor declares the dead silo Dead in the table; the front end's gateway list follows it.
            var declared = await cluster.WaitForMembershipAsync(r => r.Port == cluster.SiloPorts[victim] && r.Status == "Dead", Settle) - killedAt;
            rows = await cluster.MembershipAsync();
            Assert.Equal([cluster.SiloPorts[survivor]], rows.Where(r => r.Status == "Active").Select(r => r.Port));
            await cluster.WaitForReadyzAsync(1);
            Figure($"membership table: the killed silo's row Dead {declared.TotalMilliseconds:F0} ms after the kill, 1 Active row left");
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            throw;
        }
    }

    [Fact]
    public async Task A_deleted_membership_table_heals_without_an_operator_and_nothing_is_lost()
    {
        await using var cluster = await AzureTableCluster.StartAsync(output);
        const string doc = "azure-table-deleted";
        var editors = await Editors.ConnectAsync([cluster.FrontEnd], doc, perFrontEnd: 2);
        try
        {
            using var stop = new CancellationTokenSource();
            var typing = editors.TypeTokens(stop.Token);
            await editors.WaitForAcksAsync(40);

            await cluster.DeleteMembershipTableAsync();
            var deletedAt = DateTime.UtcNow;
            output.WriteLine($"deleted the membership table after {editors.Acked.Count} acked ops");

            // Each silo's watchdog sees its row gone and exits 75; the test restarts exited silos as a supervisor would.
            var restarted = new List<(string Name, int ExitCode)>();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (restarted.Count < 2)
            {
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"silos still running {TimeSpan.FromSeconds(60)} after the table was deleted");
                restarted.AddRange(await cluster.RestartExitedSilosAsync());
                await Task.Delay(100);
            }
            await cluster.WaitForReadyzAsync(2);
            var ready = DateTime.UtcNow - deletedAt;
            var nextSeqs = editors.Models.Select(m => m.NextSeq).ToArray();
            var editing = await editors.WaitUntilEveryClientAckedSeqAsync(nextSeqs, Settle) - deletedAt;

            await stop.CancelAsync();
            await typing;
            var (text, rev) = await SettleAsync(editors, cluster.FrontEnd, doc);
            var problems = Tokens.Audit(text, editors.Acked.Keys);
            Assert.True(problems.Count == 0, string.Join("\n", problems.Take(20)));
            Assert.All(restarted, r => Assert.Equal(75, r.ExitCode));
            var rows = await cluster.MembershipAsync();
            Assert.Equal(2, rows.Count(r => r.Status == "Active"));
            Figure($"membership table deleted: {restarted.Count} silo restart(s) (exit 75), the front end saw 2 silos again {ready.TotalMilliseconds:F0} ms "
                + $"after the deletion, every editor acknowledged {editing.TotalMilliseconds:F0} ms after it; acked ops {editors.Acked.Count}, lost 0, duplicated 0, final rev {rev}");
            Assert.True(ready <= TimeSpan.FromSeconds(30), $"ready again only {ready.TotalSeconds:F1} s after the deletion (bound 30 s)");
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

    private static async Task<(string Text, long Rev)> SettleAsync(Editors editors, HostProcess frontEnd, string doc)
    {
        await editors.WaitSynchronizedAsync(Settle);
        var (text, rev) = await LocalCluster.ReadAsync(frontEnd, doc);
        foreach (var model in editors.Models)
        {
            await model.WaitUntilAsync(m => m.State.Rev >= rev, Settle, $"reaching rev {rev}");
            Assert.True(model.State.Text == text, $"{model.ClientId} holds a different text at rev {model.State.Rev} than the server at rev {rev}");
        }
        var problems = editors.Models.SelectMany(m => m.Problems).ToList();
        Assert.True(problems.Count == 0, "protocol problems seen by the clients:\n" + string.Join("\n", problems.Take(20)));
        return (text, rev);
    }
}

/// <summary>One row of Orleans' membership table (<c>OrleansSiloInstances</c>) as stored in Azure Table Storage.</summary>
internal sealed record MembershipRow(string SiloName, int Port, string Status);

/// <summary>
/// Azurite (table service) for membership, PostgreSQL for documents, 2 silos and 1 client-mode front end on free
/// loopback ports, all with <c>Collab:Cluster:Clustering=AzureTable</c>. Everything is stopped on dispose.
/// </summary>
internal sealed class AzureTableCluster : IAsyncDisposable
{
    private const string MembershipTable = "OrleansSiloInstances";

    private readonly ITestOutputHelper output;
    private readonly AzuriteServer azurite;
    private readonly PostgresServer postgres;
    private readonly List<HostProcess> processes = [];
    private readonly string clusterId = "azure-" + Guid.NewGuid().ToString("N")[..8];

    private AzureTableCluster(ITestOutputHelper output, AzuriteServer azurite, PostgresServer postgres)
    {
        this.output = output;
        this.azurite = azurite;
        this.postgres = postgres;
    }

    public List<HostProcess> Silos { get; } = [];

    public Dictionary<HostProcess, int> SiloPorts { get; } = [];

    public HostProcess FrontEnd { get; private set; } = null!;

    /// <summary>From starting the first silo to the front end seeing both silos.</summary>
    public TimeSpan StartTime { get; private set; }

    public static async Task<AzureTableCluster> StartAsync(ITestOutputHelper output)
    {
        var azurite = await AzuriteServer.StartAsync();
        var postgres = new PostgresServer();
        var cluster = new AzureTableCluster(output, azurite, postgres);
        try
        {
            await postgres.InitializeAsync();
            var stopwatch = Stopwatch.StartNew();
            foreach (var name in new[] { "silo1", "silo2" }) await cluster.StartSiloAsync(name);
            cluster.FrontEnd = await HostProcess.StartAsync("Collab.Web", [.. cluster.CommonArgs(), "--Collab:Cluster:Mode", "Client"], "fe");
            cluster.processes.Add(cluster.FrontEnd);
            await cluster.WaitForReadyzAsync(2);
            cluster.StartTime = stopwatch.Elapsed;
        }
        catch
        {
            output.WriteLine(cluster.Logs());
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    private async Task StartSiloAsync(string name)
    {
        var siloPort = RepoPaths.FreePort();
        var silo = await HostProcess.StartAsync("Collab.Silo",
        [
            .. CommonArgs(),
            "--Collab:Cluster:SiloPort", HostProcess.Port(siloPort),
            "--Collab:Cluster:GatewayPort", HostProcess.Port(RepoPaths.FreePort()),
            "--Collab:Cluster:AdvertisedAddress", "127.0.0.1",
        ], name);
        processes.Add(silo);
        Silos.Add(silo);
        SiloPorts[silo] = siloPort;
        output.WriteLine($"{name}: ready in {silo.TimeToReady.TotalMilliseconds:F0} ms (silo port {siloPort})");
    }

    /// <summary>Deletes the membership table (an operator's mistake, a storage account restored without it).</summary>
    public Task DeleteMembershipTableAsync() => new TableServiceClient(azurite.ConnectionString).DeleteTableAsync(MembershipTable);

    /// <summary>Starts again every silo that exited (as its supervisor would), on new ports; returns which, with their exit codes.</summary>
    public async Task<List<(string Name, int ExitCode)>> RestartExitedSilosAsync()
    {
        var restarted = new List<(string, int)>();
        foreach (var silo in Silos.Where(s => s.HasExited).ToList())
        {
            Silos.Remove(silo);
            SiloPorts.Remove(silo);
            restarted.Add((silo.Name, silo.ExitCode));
            await StartSiloAsync(silo.Name);
        }
        return restarted;
    }

    /// <summary>This cluster's silo rows in the membership table (the table's version row left out).</summary>
    public async Task<List<MembershipRow>> MembershipAsync()
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient(MembershipTable);
        var rows = new List<MembershipRow>();
        await foreach (var entity in table.QueryAsync<TableEntity>(e => e.PartitionKey == clusterId))
        {
            if (!entity.ContainsKey("Status")) continue;
            rows.Add(new MembershipRow($"{entity["SiloName"]}", int.Parse($"{entity["Port"]}", System.Globalization.CultureInfo.InvariantCulture), $"{entity["Status"]}"));
        }
        return rows;
    }

    /// <summary>Waits until a row matches; returns when it was first seen.</summary>
    public async Task<DateTime> WaitForMembershipAsync(Func<MembershipRow, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var rows = await MembershipAsync();
            if (rows.Any(condition)) return DateTime.UtcNow;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("membership table: " + string.Join(", ", rows));
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the front end's /readyz counts <paramref name="count"/> active silos.</summary>
    public async Task WaitForReadyzAsync(int count)
    {
        using var http = FrontEnd.Http();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
            var ready = await response.Content.ReadAsStringAsync();
            if (ready.Contains($"{count} silo(s)", StringComparison.Ordinal)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the front end never saw {count} silos: {ready}");
            await Task.Delay(200);
        }
    }

    /// <summary>The silo process hosting <paramref name="doc"/> right now.</summary>
    public Task<HostProcess> SiloOfAsync(string doc) => LocalCluster.SiloOfAsync(FrontEnd, SiloPorts, doc);

    private string[] CommonArgs() =>
    [
        "--Collab:Cluster:Clustering", "AzureTable",
        "--Collab:Cluster:AzureTableConnectionString", azurite.ConnectionString,
        "--Collab:Cluster:ClusterId", clusterId,
        "--Collab:Cluster:ServiceId", "collab-tests",
        "--Collab:Storage:Provider", "Postgres",
        "--Collab:Storage:PostgresConnectionString", postgres.ConnectionString,
        "--Collab:Storage:Schema", "azure_table_tests",
        "--Collab:FrontEnd:MessagesPerSecond", "100000",
        "--Collab:FrontEnd:MessageBurst", "100000",
        "--Logging:LogLevel:Default", "Warning",
    ];

    /// <summary>The output of every process and of Azurite, for a failing test's message.</summary>
    public string Logs() =>
        string.Join("\n", processes.Select(p => $"--- {p.Name} ---\n{Tail(p.Output)}")) + $"\n--- azurite ---\n{Tail(azurite.Output)}";

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes) process.Dispose();
        azurite.Dispose();
        await postgres.DisposeAsync();
    }
}
