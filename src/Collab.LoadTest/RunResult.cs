using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Collab.LoadTest;

/// <summary>What one run measured; printed as a table and written as JSON. Figures that need <c>--server-pid</c> are null without it.</summary>
internal sealed class RunResult
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    public Workload Workload { get; set; }
    public string Url { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;
    public Dictionary<string, string> Parameters { get; set; } = [];

    /// <summary>Milliseconds from the tool's start until <c>/readyz</c> answered 200 (cold start only).</summary>
    public double? ReadyMs { get; set; }
    /// <summary>Seconds the server process had been running when measuring began (needs the pid).</summary>
    public double? ServerAgeAtStartSeconds { get; set; }
    public int? PrefillOps { get; set; }
    public double? PrefillSeconds { get; set; }

    public double MeasuredSeconds { get; set; }
    public int Connections { get; set; }
    /// <summary>Edits made in the measured window (W5: all edits building the document).</summary>
    public long Edits { get; set; }
    /// <summary>Ops sent in the measured window and acknowledged (each is one revision: one committed edit, or several edits composed while an op was in flight).</summary>
    public long CommittedOps { get; set; }
    public double CommittedOpsPerSecond { get; set; }
    public long Resends { get; set; }

    public double? ServerCpuSeconds { get; set; }
    /// <summary>The kernel's share of <see cref="ServerCpuSeconds"/> (stime: sockets, fsync, page faults).</summary>
    public double? ServerSystemCpuSeconds { get; set; }
    public double? ServerCpuUsPerCommittedOp { get; set; }
    public long? ServerRssBeforeKb { get; set; }
    public long? ServerRssAfterKb { get; set; }
    public double? ServerRssKbPerConnection { get; set; }
    public double LoadToolCpuSeconds { get; set; }
    /// <summary>CPU the load tool used in the measured window (it shares the machine with the server).</summary>
    public double? LoadToolWindowCpuSeconds { get; set; }
    /// <summary>Busy CPU of the whole machine in the measured window, minus the server's and the load tool's: contention from other processes.</summary>
    public double? OtherProcessesCpuSeconds { get; set; }

    public LatencyStats? BroadcastLatencyMs { get; set; }
    public int LatencyMissing { get; set; }

    public List<double>? JoinMs { get; set; }
    public double? JoinMedianMs { get; set; }
    public int? DocumentChars { get; set; }

    /// <summary>Soak only: the server's samples, the hostile outcomes, the drain.</summary>
    public SoakResult? Soak { get; set; }

    public bool Converged { get; set; }
    public int ConvergedDocuments { get; set; }
    public List<string> Problems { get; set; } = [];
    public int ErrorCount { get; set; }

    /// <summary>Fills the server figures from samples taken before and after the measured window.</summary>
    public void SetServer(ProcessSample? before, ProcessSample? after)
    {
        if (before is not { } b || after is not { } a) return;
        ServerAgeAtStartSeconds = b.AgeSeconds;
        ServerCpuSeconds = a.CpuSeconds - b.CpuSeconds;
        ServerSystemCpuSeconds = a.SystemSeconds - b.SystemSeconds;
        ServerRssBeforeKb = b.RssKb;
        ServerRssAfterKb = a.RssKb;
    }

    /// <summary>Fills the contention figures from machine samples taken at the edges of the measured window.</summary>
    public void SetMachine(MachineSample before, MachineSample after)
    {
        LoadToolWindowCpuSeconds = after.ToolSeconds - before.ToolSeconds;
        if (before.BusySeconds is { } b && after.BusySeconds is { } a)
            OtherProcessesCpuSeconds = Math.Max(0, a - b - LoadToolWindowCpuSeconds.Value - (ServerCpuSeconds ?? 0));
    }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>The figures as a two-column table, the workload's headline first.</summary>
    public string ToTable()
    {
        var rows = new List<(string, string)>
        {
            ("workload", $"{Workload} ({string.Join(", ", Parameters.Select(p => $"{p.Key}={p.Value}"))})"),
        };
        void Add(string name, object? value, string format = "0.###")
        {
            if (value is null) return;
            rows.Add((name, value is double d ? d.ToString(format, CultureInfo.InvariantCulture) : Convert.ToString(value, CultureInfo.InvariantCulture)!));
        }
        Add("ready after (ms)", ReadyMs, "0");
        Add("server age at start (s)", ServerAgeAtStartSeconds, "0.00");
        Add("prefill ops", PrefillOps);
        Add("prefill seconds", PrefillSeconds, "0.0");
        if (MeasuredSeconds > 0) Add("measured seconds", MeasuredSeconds, "0.00");
        Add("connections", Connections);
        if (Edits > 0) Add("edits", Edits);
        if (CommittedOps > 0) Add("committed ops", CommittedOps);
        if (CommittedOpsPerSecond > 0) Add("committed ops/s", CommittedOpsPerSecond, "0");
        if (Resends > 0) Add("resends", Resends);
        Add("server CPU s", ServerCpuSeconds, "0.00");
        if (MeasuredSeconds > 0) Add("server CPU cores (CPU s / s)", ServerCpuSeconds / MeasuredSeconds, "0.00");
        Add("server CPU s in the kernel", ServerSystemCpuSeconds, "0.00");
        Add("server CPU µs per committed op", ServerCpuUsPerCommittedOp, "0");
        Add("server RSS before (KB)", ServerRssBeforeKb);
        Add("server RSS after (KB)", ServerRssAfterKb);
        Add("server RSS KB per connection", ServerRssKbPerConnection, "0.0");
        Add("load tool CPU s (whole run)", LoadToolCpuSeconds, "0.00");
        Add("load tool CPU s (measured window)", LoadToolWindowCpuSeconds, "0.00");
        Add("other processes' CPU s (window)", OtherProcessesCpuSeconds, "0.00");
        if (BroadcastLatencyMs is { } l)
        {
            Add("latency samples", l.Count);
            Add("latency p50 (ms)", l.P50, "0.00");
            Add("latency p95 (ms)", l.P95, "0.00");
            Add("latency p99 (ms)", l.P99, "0.00");
            Add("latency max (ms)", l.Max, "0.00");
        }
        if (LatencyMissing > 0) Add("ops some peer never received", LatencyMissing);
        Add("document chars", DocumentChars);
        if (JoinMs is not null) Add("join ms (each)", string.Join(" ", JoinMs.Select(j => j.ToString("0.0", CultureInfo.InvariantCulture))));
        Add("join median (ms)", JoinMedianMs, "0.0");
        if (Soak is not null) rows.AddRange(Soak.Rows());
        Add("converged", Converged ? $"yes ({ConvergedDocuments} documents)" : "NO");
        Add("errors", ErrorCount);
        foreach (var p in Problems.Take(10)) rows.Add(("problem", p));
        var width = rows.Max(r => r.Item1.Length);
        return string.Join(Environment.NewLine, rows.Select(r => $"{r.Item1.PadRight(width)}  {r.Item2}")) + Environment.NewLine;
    }
}
