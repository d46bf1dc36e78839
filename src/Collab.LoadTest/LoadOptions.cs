using System.Globalization;

namespace Collab.LoadTest;

/// <summary>The workloads of issue 12 (docs/benchmarks.md defines each one).</summary>
internal enum Workload
{
    W1,
    W2,
    W3,
    W4,
    W5,
    /// <summary>Only writes the <c>--prefill</c> ops (to restart the server on a store that holds data before measuring).</summary>
    Prefill,
    /// <summary>Honest editors and hostile clients together for <c>--duration</c>, the server's RSS, fds and threads sampled every second (docs/operations.md, "Soak test").</summary>
    Soak,
}

/// <summary>Everything one run is told; <see cref="ForWorkload"/> gives each workload's defaults.</summary>
internal sealed class LoadOptions
{
    public Workload Workload { get; set; } = Workload.W1;
    public Uri Url { get; set; } = new("http://localhost:5000");
    public int? ServerPid { get; set; }
    /// <summary>Documents edited (W1–W3), or joined by the idle connections (W4).</summary>
    public int Documents { get; set; } = 1;
    /// <summary>Clients per document (W1–W3), or writers building the document (W5).</summary>
    public int Clients { get; set; } = 16;
    /// <summary>W4: idle connections, spread evenly over <see cref="Documents"/>.</summary>
    public int Connections { get; set; } = 2000;
    /// <summary>Edits per second per client; 0 = closed loop (the next edit the moment the previous op is acknowledged).</summary>
    public double Rate { get; set; }
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>The same workload runs this long before anything is measured (0 to measure from the first edit).</summary>
    public TimeSpan Warmup { get; set; } = TimeSpan.FromSeconds(3);
    /// <summary>W4: how long the connections sit idle before RSS is read.</summary>
    public TimeSpan Settle { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>W5: edits building the document, its size in UTF-16 code units, and how many joins are timed.</summary>
    public int Edits { get; set; } = 20_000;
    public int DocumentChars { get; set; } = 1_048_576;
    public int Joins { get; set; } = 5;
    /// <summary>Ops written to earlier documents before the run (the store "already holds N ops").</summary>
    public int Prefill { get; set; }
    public int PrefillDocuments { get; set; } = 566;
    /// <summary>Wait for <c>/readyz</c> and measure from the first edit: no warm-up.</summary>
    public bool ColdStart { get; set; }
    public string? JsonPath { get; set; }
    public int Seed { get; set; } = 12;
    /// <summary>Prefix of every document id, unique per run unless given, so runs against one server never share documents.</summary>
    public string DocPrefix { get; set; } = "lt" + Guid.NewGuid().ToString("N")[..8];
    public TimeSpan ConvergeTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Connections opened at once while setting up.</summary>
    public int ConnectParallelism { get; set; } = 50;
    /// <summary>Soak: where the SVG plot of the samples goes.</summary>
    public string? PlotPath { get; set; }
    /// <summary>Soak: hostile clients of each kind (<see cref="HostileLoad"/>).</summary>
    public int Hostile { get; set; } = 2;
    /// <summary>Soak: length of the large document the stalled readers join (built by the large-op client before the run).</summary>
    public int BigDocumentChars { get; set; } = 2_000_000;

    public static LoadOptions ForWorkload(Workload workload) => workload switch
    {
        Workload.W1 => new LoadOptions { Workload = workload, Documents = 1, Clients = 16, Rate = 0, Duration = TimeSpan.FromSeconds(10) },
        Workload.W2 => new LoadOptions { Workload = workload, Documents = 1, Clients = 32, Rate = 10, Duration = TimeSpan.FromSeconds(20) },
        Workload.W3 => new LoadOptions { Workload = workload, Documents = 500, Clients = 2, Rate = 1, Duration = TimeSpan.FromSeconds(20) },
        Workload.W4 => new LoadOptions { Workload = workload, Documents = 200, Connections = 2000 },
        Workload.W5 => new LoadOptions { Workload = workload, Documents = 1, Clients = 8, Rate = 0 },
        Workload.Soak => new LoadOptions { Workload = workload, Documents = 4, Clients = 3, Rate = 2, Duration = TimeSpan.FromMinutes(10), Warmup = TimeSpan.FromSeconds(5) },
        _ => new LoadOptions { Workload = workload, Prefill = 74_000 },
    };

    public const string Usage = """
        usage: Collab.LoadTest <w1|w2|w3|w4|w5|prefill|soak> [options]
          --url URL                 server base address (default http://localhost:5000)
          --server-pid PID          read the server's CPU time and RSS from /proc/PID before and after
          --documents N             documents (W1-W3 edited, W4 joined)         --clients N   clients per document (W5: writers)
          --connections N           W4: idle connections                        --rate R      edits/s per client, 0 = closed loop
          --duration S              measured seconds                            --warmup S    seconds of the same load before measuring
          --settle S                W4: idle seconds before RSS is read
          --edits N --doc-chars N --joins N   W5: the document's edits and size, and the joins timed (median)
          --prefill N [--prefill-documents D] write N ops to D earlier documents first (prefill: only that)
          --cold-start              wait for /readyz, then measure from the first edit (no warm-up)
          --json FILE               also write the result as JSON            --seed N   --doc-prefix P   --converge-timeout S
          soak (needs --server-pid; defaults: --documents 4 --clients 3 --rate 2 --duration 600 --warmup 5):
          --hostile N               clients of each hostile kind (default 2)   --big-doc-chars N   the document stalled readers join
          --plot FILE               write RSS and open fds over time as an SVG
        """;

    /// <summary>Parses <c>workload [--option value]…</c> (the workload may come anywhere); throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var positional = args.Where((a, i) => !a.StartsWith("--", StringComparison.Ordinal) && (i == 0 || !TakesValue(args[i - 1]))).ToList();
        if (positional.Count != 1 || !Enum.TryParse<Workload>(positional[0], ignoreCase: true, out var workload))
            throw new ArgumentException("name one workload: w1, w2, w3, w4, w5, prefill or soak");
        var o = ForWorkload(workload);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (!name.StartsWith("--", StringComparison.Ordinal)) continue;
            if (name == "--cold-start")
            {
                o.ColdStart = true;
                continue;
            }
            if (i + 1 >= args.Count) throw new ArgumentException($"{name} needs a value");
            var value = args[++i];
            switch (name)
            {
                case "--url": o.Url = new Uri(value); break;
                case "--server-pid": o.ServerPid = Int(name, value); break;
                case "--documents": o.Documents = Int(name, value); break;
                case "--clients": o.Clients = Int(name, value); break;
                case "--connections": o.Connections = Int(name, value); break;
                case "--rate": o.Rate = Number(name, value); break;
                case "--duration": o.Duration = Seconds(name, value); break;
                case "--warmup": o.Warmup = Seconds(name, value); break;
                case "--settle": o.Settle = Seconds(name, value); break;
                case "--edits": o.Edits = Int(name, value); break;
                case "--doc-chars": o.DocumentChars = Int(name, value); break;
                case "--joins": o.Joins = Int(name, value); break;
                case "--prefill": o.Prefill = Int(name, value); break;
                case "--prefill-documents": o.PrefillDocuments = Int(name, value); break;
                case "--json": o.JsonPath = value; break;
                case "--seed": o.Seed = Int(name, value); break;
                case "--doc-prefix": o.DocPrefix = value; break;
                case "--converge-timeout": o.ConvergeTimeout = Seconds(name, value); break;
                case "--connect-parallelism": o.ConnectParallelism = Int(name, value); break;
                case "--plot": o.PlotPath = value; break;
                case "--hostile": o.Hostile = Int(name, value); break;
                case "--big-doc-chars": o.BigDocumentChars = Int(name, value); break;
                default: throw new ArgumentException($"unknown option {name}");
            }
        }
        if (o.ColdStart) o.Warmup = TimeSpan.Zero;
        if (o.Documents < 1 || o.Clients < 1 || o.Connections < 1 || o.Joins < 1 || o.Edits < 1 || o.PrefillDocuments < 1)
            throw new ArgumentException("counts must be at least 1");
        if (o.Workload == Workload.Soak && o.ServerPid is null)
            throw new ArgumentException("soak samples the server's /proc/PID: give --server-pid");
        if (o.Workload == Workload.Soak && o.Rate == 0)
            throw new ArgumentException("soak types at a human rate: --rate must be above 0");
        return o;
    }

    private static bool TakesValue(string arg) => arg.StartsWith("--", StringComparison.Ordinal) && arg != "--cold-start";

    private static int Int(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"{name} must be a non-negative integer");

    private static double Number(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : throw new ArgumentException($"{name} must be a non-negative number");

    /// <summary>Seconds, written plainly or with an <c>s</c> suffix (<c>600</c> or <c>600s</c>).</summary>
    private static TimeSpan Seconds(string name, string value) => TimeSpan.FromSeconds(Number(name, value.EndsWith('s') ? value[..^1] : value));
}
