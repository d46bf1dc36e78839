using System.Net.Http.Json;
using System.Text.Json;
using Collab.Testing;
using Xunit.Abstractions;

namespace Collab.Cluster.Tests;

/// <summary>
/// A Collab cluster on this machine: redis-server for membership, a PostgreSQL server for documents, silos and
/// client-mode front ends as child processes on free loopback ports. Everything is stopped on dispose.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly ITestOutputHelper output;
    private readonly RedisServer redis;
    private readonly PostgresServer postgres;
    private readonly List<HostProcess> processes = [];

    private LocalCluster(ITestOutputHelper output, RedisServer redis, PostgresServer postgres, string clusterId)
    {
        this.output = output;
        this.redis = redis;
        this.postgres = postgres;
        ClusterId = clusterId;
    }

    public string ClusterId { get; }

    /// <summary>The PostgreSQL server holding the documents (fault tests stop and start it).</summary>
    public PostgresServer Postgres => postgres;

    public List<HostProcess> Silos { get; } = [];

    public List<HostProcess> FrontEnds { get; } = [];

    /// <summary>Silo-to-silo port of each silo (its identity in <c>/api/docs/{doc}/status</c>).</summary>
    public Dictionary<HostProcess, int> SiloPorts { get; } = [];

    /// <param name="settings">More <c>--Collab:…</c> arguments for every process (access mode and keys, say).</param>
    public static async Task<LocalCluster> StartAsync(ITestOutputHelper output, int silos = 2, int frontEnds = 2, IEnumerable<string>? settings = null)
    {
        var redis = await RedisServer.StartAsync();
        var postgres = new PostgresServer();
        await postgres.InitializeAsync();
        var cluster = new LocalCluster(output, redis, postgres, "cluster-" + Guid.NewGuid().ToString("N")[..8]) { settings = [.. settings ?? []] };
        try
        {
            for (var i = 1; i <= silos; i++) await cluster.StartSiloAsync($"silo{i}");
            for (var i = 1; i <= frontEnds; i++) await cluster.StartFrontEndAsync($"fe{i}");
            await cluster.WaitForSilosAsync(silos);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
        return cluster;
    }

    /// <summary>Another cluster (its own id and membership) writing to the same PostgreSQL schema: a second activation of every document.</summary>
    public async Task<LocalCluster> StartRivalAsync()
    {
        var rival = new LocalCluster(output, redis, postgres, "rival-" + Guid.NewGuid().ToString("N")[..8]) { ownsServers = false };
        await rival.StartSiloAsync("rival-silo");
        await rival.StartFrontEndAsync("rival-fe");
        await rival.WaitForSilosAsync(1);
        return rival;
    }

    private bool ownsServers = true;

    public async Task<HostProcess> StartSiloAsync(string name)
    {
        var siloPort = RepoPaths.FreePort();
        return await LaunchSiloAsync(name, siloPort, RepoPaths.FreePort());
    }

    private readonly Dictionary<HostProcess, int> gatewayPorts = [];

    private async Task<HostProcess> LaunchSiloAsync(string name, int siloPort, int gatewayPort)
    {
        var silo = await HostProcess.StartAsync("Collab.Silo",
        [
            .. CommonArgs(),
            "--Collab:Cluster:SiloPort", HostProcess.Port(siloPort),
            "--Collab:Cluster:GatewayPort", HostProcess.Port(gatewayPort),
            "--Collab:Cluster:AdvertisedAddress", "127.0.0.1",
        ], name);
        processes.Add(silo);
        Silos.Add(silo);
        SiloPorts[silo] = siloPort;
        gatewayPorts[silo] = gatewayPort;
        output.WriteLine($"{name}: ready in {silo.TimeToReady.TotalMilliseconds:F0} ms (silo port {siloPort})");
        return silo;
    }

    /// <summary>
    /// What a supervisor (systemd, App Service, Kubernetes) does: every silo that exited is started again with the same
    /// name and ports. Returns the exit codes of those it restarted.
    /// </summary>
    public async Task<List<(string Name, int ExitCode)>> RestartExitedSilosAsync()
    {
        var restarted = new List<(string, int)>();
        foreach (var silo in Silos.Where(s => s.HasExited).ToList())
        {
            var (siloPort, gatewayPort) = (SiloPorts[silo], gatewayPorts[silo]);
            Silos.Remove(silo);
            SiloPorts.Remove(silo);
            gatewayPorts.Remove(silo);
            restarted.Add((silo.Name, silo.ExitCode));
            await LaunchSiloAsync(silo.Name, siloPort, gatewayPort);
        }
        return restarted;
    }

    /// <summary>The Redis server holding membership (fault tests kill it and start it empty).</summary>
    public RedisServer Redis => redis;

    public async Task<HostProcess> StartFrontEndAsync(string name)
    {
        var frontEnd = await HostProcess.StartAsync("Collab.Web", [.. CommonArgs(), "--Collab:Cluster:Mode", "Client"], name);
        processes.Add(frontEnd);
        FrontEnds.Add(frontEnd);
        output.WriteLine($"{name}: ready in {frontEnd.TimeToReady.TotalMilliseconds:F0} ms");
        return frontEnd;
    }

    /// <summary>The silo process hosting <paramref name="doc"/> right now, asked through a front end (retrying while it moves).</summary>
    public Task<HostProcess> SiloOfAsync(string doc) => SiloOfAsync(FrontEnds.First(f => !f.HasExited), SiloPorts, doc);

    /// <summary>The silo (by its silo port) that <paramref name="frontEnd"/>'s <c>/api/docs/{doc}/status</c> names.</summary>
    public static async Task<HostProcess> SiloOfAsync(HostProcess frontEnd, IReadOnlyDictionary<HostProcess, int> siloPorts, string doc)
    {
        using var http = new HttpClient { BaseAddress = frontEnd.BaseUri, Timeout = TimeSpan.FromSeconds(30) };
        var last = "";
        for (var attempt = 0; attempt < 60; attempt++)
        {
            try
            {
                var response = await http.GetAsync(new Uri($"/api/docs/{doc}/status", UriKind.Relative));
                if (response.IsSuccessStatusCode)
                {
                    var silo = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("silo").GetString()!;
                    return siloPorts.Single(s => silo.StartsWith($"S127.0.0.1:{s.Value}:", StringComparison.Ordinal)).Key;
                }
                last = $"{(int)response.StatusCode}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(200);
        }
        throw new InvalidOperationException($"GET /api/docs/{doc}/status never answered: {last}");
    }

    /// <summary>The stored history of <paramref name="doc"/> straight from PostgreSQL: revisions in order and the text they replay to.</summary>
    public async Task<(string Text, long[] Revs)> StoredHistoryAsync(string doc)
    {
        await using var connection = new Npgsql.NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT rev, op FROM cluster_tests.ops WHERE doc = $1 ORDER BY rev", connection);
        command.Parameters.AddWithValue(doc);
        await using var reader = await command.ExecuteReaderAsync();
        var text = "";
        var revs = new List<long>();
        while (await reader.ReadAsync())
        {
            revs.Add(reader.GetInt64(0));
            text = Collab.Ot.TextOperation.Parse(reader.GetString(1)).Apply(text);
        }
        return (text, [.. revs]);
    }

    /// <summary>The committed text and revision, read through a front end.</summary>
    public static async Task<(string Text, long Rev)> ReadAsync(HostProcess frontEnd, string doc)
    {
        using var http = frontEnd.Http();
        for (var attempt = 0; ; attempt++)
        {
            var response = await http.GetAsync(new Uri($"/api/docs/{doc}", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                var state = await response.Content.ReadFromJsonAsync<JsonElement>();
                return (state.GetProperty("text").GetString()!, state.GetProperty("rev").GetInt64());
            }
            if (attempt == 50) throw new InvalidOperationException($"{frontEnd.Name}: GET /api/docs/{doc} answered {(int)response.StatusCode}");
            await Task.Delay(200);
        }
    }

    private async Task WaitForSilosAsync(int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        foreach (var frontEnd in FrontEnds)
        {
            using var http = frontEnd.Http();
            while (true)
            {
                var ready = await http.GetStringAsync(new Uri("/readyz", UriKind.Relative));
                if (ready.Contains($"{count} silo(s)", StringComparison.Ordinal)) break;
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"{frontEnd.Name} never saw {count} silos: {ready}");
                await Task.Delay(200);
            }
        }
    }

    private string[] settings = [];

    private string[] CommonArgs() =>
    [
        .. settings,
        "--Collab:Cluster:Clustering", "Redis",
        "--Collab:Cluster:RedisConnectionString", redis.ConnectionString,
        "--Collab:Cluster:ClusterId", ClusterId,
        "--Collab:Cluster:ServiceId", "collab-tests",
        "--Collab:Storage:Provider", "Postgres",
        "--Collab:Storage:PostgresConnectionString", postgres.ConnectionString,
        "--Collab:Storage:Schema", "cluster_tests",
        "--Collab:FrontEnd:MessagesPerSecond", "100000",
        "--Collab:FrontEnd:MessageBurst", "100000",
        "--Collab:FrontEnd:ApiRequestsPerSecond", "100000",
        "--Collab:FrontEnd:ApiBurst", "100000",
        "--Logging:LogLevel:Default", "Warning",
    ];

    /// <summary>The output of every process, for a failing test's message.</summary>
    /// <summary>Hosts whose output shows an exception that could not cross a grain boundary (no codec on the other side).</summary>
    public IReadOnlyList<string> CodecFailures() => processes.Where(p => p.Output.Contains("CodecNotFoundException", StringComparison.Ordinal)).Select(p => p.Name).ToList();

    public string Logs() => string.Join("\n", processes.Select(p => $"--- {p.Name} ---\n{Tail(p.Output)}"));

    private static string Tail(string text) => text.Length <= 4000 ? text : "…" + text[^4000..];

    public async ValueTask DisposeAsync()
    {
        foreach (var process in processes) process.Dispose();
        if (!ownsServers) return;
        redis.Dispose();
        await postgres.DisposeAsync();
    }
}
