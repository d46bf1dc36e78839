using System.Diagnostics;
using System.Globalization;

namespace Collab.LoadTest;

/// <summary>One reading of the server during a soak: seconds since the soak started, RSS, open descriptors, threads, and the running counters of the load.</summary>
internal sealed record SoakSample(double T, long RssKb, int Fds, int Threads, long HonestAcks, long HostileRefusals);

/// <summary>
/// Reads the server's resident memory and threads (<c>/proc/PID/status</c>) and its open file descriptors (the entries
/// of <c>/proc/PID/fd</c>, sockets included) once a second until stopped.
/// </summary>
internal sealed class ResourceSampler(int pid, Func<long> honestAcks, Func<long> hostileRefusals)
{
    private readonly long started = Stopwatch.GetTimestamp();
    private readonly List<SoakSample> samples = [];

    public IReadOnlyList<SoakSample> Samples
    {
        get
        {
            lock (samples) return [.. samples];
        }
    }

    /// <summary>Takes a sample now and keeps it.</summary>
    public SoakSample Take()
    {
        var (rss, threads) = Status(pid);
        var sample = new SoakSample(Stopwatch.GetElapsedTime(started).TotalSeconds, rss, OpenDescriptors(pid), threads, honestAcks(), hostileRefusals());
        lock (samples) samples.Add(sample);
        return sample;
    }

    /// <summary>Set when <c>/proc/PID</c> went away while sampling: the server exited.</summary>
    public bool ServerGone { get; private set; }

    /// <summary>Samples every second (on the second since the start, a late tick is not made up) until <paramref name="stop"/> or the server exits.</summary>
    public async Task RunAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            Take();
            while (await timer.WaitForNextTickAsync(stop)) Take();
        }
        catch (OperationCanceledException)
        {
            // The soak ended.
        }
        catch (IOException)
        {
            ServerGone = true;
        }
    }

    public static int OpenDescriptors(int pid) => Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd").Count();

    public static (long RssKb, int Threads) Status(int pid)
    {
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Field(line);
            else if (line.StartsWith("Threads:", StringComparison.Ordinal)) threads = (int)Field(line);
        }
        return (rss, threads);
    }

    private static long Field(string line) =>
        long.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
}
