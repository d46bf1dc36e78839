using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Collab.Testing;

/// <summary>A throwaway redis-server (Debian's package) on a free loopback port, no persistence, stopped by its PID.</summary>
public sealed class RedisServer : IDisposable
{
    private Process process;

    private RedisServer(Process process, int port)
    {
        this.process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>For <c>Collab:Cluster:RedisConnectionString</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public static async Task<RedisServer> StartAsync()
    {
        var port = RepoPaths.FreePort();
        var server = new RedisServer(Launch(port), port);
        await server.WaitUntilAnsweringAsync();
        return server;
    }

    /// <summary>Kills the server (SIGKILL: nothing saved, and it keeps nothing anyway).</summary>
    public void Kill()
    {
        if (!process.HasExited) process.Kill();
        process.WaitForExit(5000);
    }

    /// <summary>Starts an empty server on the same port, as a Redis restarted without persistence comes back.</summary>
    public async Task StartEmptyAsync()
    {
        Kill();
        process.Dispose();
        process = Launch(Port);
        await WaitUntilAnsweringAsync();
    }

    private async Task WaitUntilAnsweringAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await PingAsync())
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                Dispose();
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port}");
            }
            await Task.Delay(50);
        }
    }

    private static Process Launch(int port)
    {
        var binary = new[] { "/usr/bin/redis-server", "/usr/local/bin/redis-server" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("redis-server is not installed: run `apt-get install -y redis-server` (.ci/run does).");
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start redis-server");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", Port);
            var stream = tcp.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
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
    }
}
