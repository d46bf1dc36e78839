using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit;

namespace Collab.Testing;

/// <summary>
/// A throwaway PostgreSQL cluster for the test run: initdb into a temporary folder, a server on a free loopback port with
/// trust authentication, one test database. Stopped by its PID and deleted on dispose. Needs only the Debian package
/// <c>postgresql</c> (see .ci/install.sh); when root, the server runs as the <c>postgres</c> OS user, as it must.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string Database = "collab_tests";
    private const string BinariesVariable = "COLLAB_POSTGRES_BIN";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly bool IsRoot = Environment.UserName == "root";

    private string? root;
    private string? binaries;
    private int? postmasterPid;

    /// <summary>Connection string of the test database.</summary>
    public string ConnectionString { get; private set; } = string.Empty;

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; private set; }

    public async Task InitializeAsync()
    {
        binaries = FindBinaries() ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries were not found (looked for initdb in ${BinariesVariable} if set, else /usr/lib/postgresql/*/bin). "
            + "The PostgreSQL store tests start their own server from them: run .ci/install.sh (it installs the Debian package "
            + "'postgresql') and run the tests again.");

        // Under /tmp when root: the postgres user must be able to reach the folder, and root's TMPDIR may be private.
        root = Path.Combine(IsRoot ? "/tmp" : Path.GetTempPath(), "collab-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(root);
        var data = Path.Combine(root, "data");
        if (IsRoot)
        {
            await RunAsync("chown", ["postgres:postgres", root]);
        }

        await RunAsync(Path.Combine(binaries, "initdb"),
            ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]);

        // A free port can be taken between probing and binding; try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            try
            {
                await RunAsync(Path.Combine(binaries, "pg_ctl"),
                [
                    "start", "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", ((int)StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                    "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {root} -c max_connections=200 -c fsync=on",
                ]);
                break;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // Most likely the port was taken; the log says so and the next attempt picks another.
            }
        }

        postmasterPid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);

        var admin = Connection("postgres");
        await WaitUntilAcceptingAsync(admin);
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand($"CREATE DATABASE {Database};", connection);
            await command.ExecuteNonQueryAsync();
        }

        ConnectionString = Connection(Database);
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (postmasterPid is { } pid && root is not null)
        {
            // SIGINT is PostgreSQL's fast shutdown: abort sessions, checkpoint, remove postmaster.pid, exit.
            await TryRunAsync("kill", ["-INT", pid.ToString(CultureInfo.InvariantCulture)]);
            var pidFile = Path.Combine(root, "data", "postmaster.pid");
            var deadline = Stopwatch.StartNew();
            while (File.Exists(pidFile) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(50);
            }

            if (File.Exists(pidFile))
            {
                await TryRunAsync("kill", ["-KILL", pid.ToString(CultureInfo.InvariantCulture)]);
            }
        }

        if (root is not null && Directory.Exists(root))
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
                // A server killed with SIGKILL may still be letting go of files; /tmp is cleaned eventually.
            }
        }
    }

    /// <summary>Npgsql options for a store in its own schema of the test database.</summary>
    public Collab.Storage.Postgres.PostgresDocumentStoreOptions Options(string schema) =>
        new() { PostgresConnectionString = ConnectionString, Schema = schema };

    /// <summary>Stops the server the hard way (<c>pg_ctl stop -m immediate</c>: sessions cut, no checkpoint), as a crash would.</summary>
    public async Task StopImmediatelyAsync()
    {
        var data = Path.Combine(root ?? throw new InvalidOperationException("not started"), "data");
        await RunAsync(Path.Combine(binaries!, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"]);
    }

    /// <summary>Starts the stopped server again on the same port (it recovers from its WAL) and waits until it accepts connections.</summary>
    public async Task StartAgainAsync()
    {
        var data = Path.Combine(root ?? throw new InvalidOperationException("not started"), "data");
        await RunAsync(Path.Combine(binaries!, "pg_ctl"),
        [
            "start", "-D", data, "-l", Path.Combine(root, "server.log"), "-w", "-t", ((int)StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {root} -c max_connections=200 -c fsync=on",
        ]);
        postmasterPid = int.Parse(File.ReadLines(Path.Combine(data, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        await WaitUntilAcceptingAsync(Connection("postgres"));
    }

    /// <summary>Runs one statement on the test database, outside any store.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    /// <summary>The server's log so far, for failure messages.</summary>
    public string Log() => root is not null && File.Exists(Path.Combine(root, "server.log")) ? File.ReadAllText(Path.Combine(root, "server.log")) : string.Empty;

    private string Connection(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = "postgres",
        Database = database,
        Timeout = 10,
        // Tests create many short-lived stores; their pools are closed with them.
        MaxPoolSize = 60,
    }.ConnectionString;

    private static string? FindBinaries()
    {
        // An explicit folder (a non-Debian machine, another major version) wins; if it lacks initdb the run fails.
        if (Environment.GetEnvironmentVariable(BinariesVariable) is { Length: > 0 } configured)
        {
            return File.Exists(Path.Combine(configured, "initdb")) ? configured : null;
        }

        if (!Directory.Exists("/usr/lib/postgresql"))
        {
            return null;
        }

        // The newest installed major version.
        return Directory.GetDirectories("/usr/lib/postgresql")
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: int.TryParse(Path.GetFileName(dir), out var v) ? v : 0))
            .Where(candidate => File.Exists(Path.Combine(candidate.Dir, "initdb")))
            .OrderByDescending(candidate => candidate.Version)
            .Select(candidate => candidate.Dir)
            .FirstOrDefault();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilAcceptingAsync(string connectionString)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                return;
            }
            catch (NpgsqlException) when (deadline.Elapsed < StartTimeout)
            {
                await Task.Delay(100);
            }
            catch (NpgsqlException exception)
            {
                throw new InvalidOperationException($"PostgreSQL on port {Port} did not accept connections within {StartTimeout}. Server log:\n{Log()}", exception);
            }
        }
    }

    /// <summary>Runs a server tool, as the postgres OS user when root (initdb and postgres refuse to run as root).</summary>
    private async Task RunAsync(string program, string[] arguments)
    {
        var asPostgres = IsRoot && program.StartsWith(binaries ?? "\0", StringComparison.Ordinal);
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (asPostgres)
        {
            foreach (var argument in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout + TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await error}\n{Log()}");
        }
    }

    private async Task TryRunAsync(string program, string[] arguments)
    {
        try
        {
            await RunAsync(program, arguments);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }
}
