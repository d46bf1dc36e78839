using System.Diagnostics;
using System.Globalization;

namespace Collab.LoadTest;

/// <summary>The whole machine's busy CPU time (/proc/stat) and the load tool's own, taken together.</summary>
internal readonly record struct MachineSample(double? BusySeconds, double ToolSeconds);

/// <summary>
/// Shows contention: what the machine spent beyond the server and the load tool during a window (other processes,
/// builds, other benchmarks). A run with a large figure shared its cores and is not a clean measurement.
/// </summary>
internal static class MachineProbe
{
    private const double TicksPerSecond = 100;

    public static MachineSample Sample()
    {
        var tool = Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
        if (!File.Exists("/proc/stat")) return new MachineSample(null, tool);
        // "cpu  user nice system idle iowait irq softirq steal …": busy is everything but idle and iowait.
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var busy = fields.Take(8).Sum() - fields[3] - fields[4];
        return new MachineSample(busy / TicksPerSecond, tool);
    }
}
