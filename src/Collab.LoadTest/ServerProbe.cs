using System.Globalization;

namespace Collab.LoadTest;

/// <summary>CPU time and resident memory of one process, read from /proc/&lt;pid&gt;/stat and /proc/&lt;pid&gt;/status.</summary>
internal readonly record struct ProcessSample(double UserSeconds, double SystemSeconds, long RssKb, double AgeSeconds)
{
    public double CpuSeconds => UserSeconds + SystemSeconds;
}

/// <summary>Reads the server process's counters (Linux only); every figure that needs them is null without <c>--server-pid</c>.</summary>
internal static class ServerProbe
{
    /// <summary>USER_HZ: the unit of utime/stime/starttime. 100 on every Linux this runs on (<c>getconf CLK_TCK</c>).</summary>
    private const double TicksPerSecond = 100;

    public static ProcessSample? Sample(int? pid)
    {
        if (pid is null) return null;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) is in parentheses and may hold spaces; the fields after it are space-separated.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        var start = long.Parse(fields[19], CultureInfo.InvariantCulture);
        var uptime = double.Parse(File.ReadAllText("/proc/uptime").Split(' ')[0], CultureInfo.InvariantCulture);
        long rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) continue;
            rss = long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            break;
        }
        return new ProcessSample(utime / TicksPerSecond, stime / TicksPerSecond, rss, uptime - (start / TicksPerSecond));
    }
}
