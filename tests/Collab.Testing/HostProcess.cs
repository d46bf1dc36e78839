using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Collab.Testing;

/// <summary>
/// A Collab host (src/Collab.Web or src/Collab.Silo) run from its build output as a child process on a free loopback
/// port, with its output captured. <see cref="Kill"/> sends SIGKILL, like a machine dying.
/// </summary>
public sealed class HostProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder log = new();

    private HostProcess(Process process, string name, Uri baseUri)
    {
        this.process = process;
        Name = name;
        BaseUri = baseUri;
    }

    public string Name { get; }

    public Uri BaseUri { get; }

    public Uri WebSocketUri => new($"ws://{BaseUri.Authority}/ws");

    /// <summary>From process start to the first 200 from /readyz.</summary>
    public TimeSpan TimeToReady { get; private set; }

    public bool HasExited => process.HasExited;

    /// <summary>The exit code, once <see cref="HasExited"/>.</summary>
    public int ExitCode => process.ExitCode;

    /// <summary>The host's process id (for readers of /proc/PID).</summary>
    public int Pid => process.Id;

    /// <summary>Resident memory of the process now, from /proc (Linux), in bytes.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        throw new InvalidOperationException("no VmRSS in /proc status");
    }

    public HttpClient Http() => new() { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Starts <paramref name="project"/> with <paramref name="args"/> (configuration keys as <c>--Key value</c>) and waits until /readyz answers 200.</summary>
    public static async Task<HostProcess> StartAsync(string project, IEnumerable<string> args, string? name = null, TimeSpan? readyTimeout = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var bin = RepoPaths.BuildOutput(project);
        var port = RepoPaths.FreePort();
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } dotnet ? dotnet : "dotnet")
        {
            WorkingDirectory = bin,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;
        info.ArgumentList.Add(Path.Combine(bin, project + ".dll"));
        foreach (var a in new[] { "--contentRoot", Path.Combine(RepoPaths.Root, "src", project), "--urls", $"http://127.0.0.1:{port}" }) info.ArgumentList.Add(a);
        foreach (var a in args) info.ArgumentList.Add(a);

        var stopwatch = Stopwatch.StartNew();
        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {project}");
        var host = new HostProcess(process, name ?? project, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => host.Append(e.Data);
        process.ErrorDataReceived += (_, e) => host.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await host.WaitReadyAsync(readyTimeout ?? TimeSpan.FromSeconds(60));
        }
        catch (Exception e)
        {
            host.Dispose();
            throw new InvalidOperationException($"{host.Name} did not become ready: {e.Message}\n--- its output ---\n{host.Output}", e);
        }
        host.TimeToReady = stopwatch.Elapsed;
        return host;
    }

    public static string Port(int port) => port.ToString(CultureInfo.InvariantCulture);

    public string Output
    {
        get
        {
            lock (log) return log.ToString();
        }
    }

    /// <summary>SIGKILL (on Linux) to the host and anything it started.</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit(10_000);
    }

    /// <summary>SIGSTOP: the process stops dead, sockets open, as in a long GC pause or a VM migration.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT after <see cref="Freeze"/>: it carries on as if nothing happened.</summary>
    public void Thaw() => Signal(SigCont);

    private const int SigCont = 18, SigStop = 19; // Linux

    private void Signal(int signal)
    {
        if (kill(process.Id, signal) != 0)
            throw new InvalidOperationException($"kill({process.Id}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>Waits until /readyz answers 200.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + timeout;
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException($"{Name} exited with code {process.ExitCode} before it was ready");
            try
            {
                using var response = await http.GetAsync(new Uri("/readyz", UriKind.Relative));
                if (response.IsSuccessStatusCode) return;
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"/readyz of {Name} did not answer 200 within {timeout}: {last}");
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (log)
        {
            if (log.Length < 200_000) log.AppendLine(line);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited) Kill();
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }
}
