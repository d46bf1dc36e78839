using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Collab.Testing;

/// <summary>
/// A throwaway Azurite (the Azure Storage emulator, npm package pinned in tools/azurite) running only its table service
/// on a free loopback port, with its data in a temporary folder. Runs <c>npm ci</c> in tools/azurite first if its
/// node_modules is missing. Stopped by its PID and its folder deleted on dispose. Needs Node.js and npm.
/// </summary>
public sealed class AzuriteServer : IDisposable
{
    /// <summary>Azurite's well-known development account (public, the same in every Azurite).</summary>
    public const string AccountName = "devstoreaccount1";

    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly SemaphoreSlim InstallGate = new(1, 1);

    private readonly Process process;
    private readonly string location;
    private readonly StringBuilder log = new();

    private AzuriteServer(Process process, string location, int port)
    {
        this.process = process;
        this.location = location;
        Port = port;
    }

    public int Port { get; }

    /// <summary>For <c>Collab:Cluster:AzureTableConnectionString</c> and <c>Azure.Data.Tables.TableServiceClient</c>.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};TableEndpoint=http://127.0.0.1:{Port}/{AccountName};";

    /// <summary>What Azurite printed so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (log) return log.ToString();
        }
    }

    public static async Task<AzuriteServer> StartAsync()
    {
        var script = await EnsureInstalledAsync();
        var location = Path.Combine(Path.GetTempPath(), "collab-azurite-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(location);
        var port = RepoPaths.FreePort();
        var info = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
                 {
                     script, "--tableHost", "127.0.0.1", "--tablePort", port.ToString(CultureInfo.InvariantCulture), "--location", location,
                     "--silent", "--skipApiVersionCheck", "--loose", "--disableTelemetry",
                 })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start node (Azurite)");
        var server = new AzuriteServer(process, location, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await RepoPaths.AcceptsConnectionsAsync(server.Port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var output = server.Output;
                server.Dispose();
                throw new InvalidOperationException($"Azurite's table service did not listen on port {port}:\n{output}");
            }
            await Task.Delay(50);
        }
        return server;
    }

    /// <summary>The table service's entry point, after <c>npm ci</c> in tools/azurite when its node_modules is missing.</summary>
    private static async Task<string> EnsureInstalledAsync()
    {
        var folder = Path.Combine(RepoPaths.Root, "tools", "azurite");
        var script = Path.Combine(folder, "node_modules", "azurite", "dist", "src", "table", "main.js");
        await InstallGate.WaitAsync();
        try
        {
            if (File.Exists(script)) return script;
            var info = new ProcessStartInfo("npm")
            {
                WorkingDirectory = folder,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // No install scripts: Azurite needs none (only protobufjs has one, a version notice).
            foreach (var a in new[] { "ci", "--no-audit", "--no-fund", "--ignore-scripts" }) info.ArgumentList.Add(a);
            Process npm;
            try
            {
                npm = Process.Start(info) ?? throw new InvalidOperationException("could not start npm");
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException("Azurite needs Node.js and npm on PATH (the browser tests need them too).", e);
            }
            using (npm)
            {
                var output = npm.StandardOutput.ReadToEndAsync();
                var error = npm.StandardError.ReadToEndAsync();
                using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
                await npm.WaitForExitAsync(timeout.Token);
                if (npm.ExitCode != 0 || !File.Exists(script))
                    throw new InvalidOperationException($"`npm ci` in tools/azurite exited with {npm.ExitCode}:\n{await output}\n{await error}");
            }
            return script;
        }
        finally
        {
            InstallGate.Release();
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (log)
        {
            if (log.Length < 100_000) log.AppendLine(line);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        try
        {
            Directory.Delete(location, recursive: true);
        }
        catch (IOException)
        {
            // Left for the OS to clean up with the rest of the temporary folder.
        }
    }
}
