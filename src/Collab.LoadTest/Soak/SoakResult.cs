using System.Globalization;

namespace Collab.LoadTest;

/// <summary>The soak's own figures (the honest editors' ops, latency and convergence are in <see cref="RunResult"/>), with every sample.</summary>
internal sealed class SoakResult
{
    /// <summary>Width of the slices <see cref="AcksPerSlice"/> counts.</summary>
    public const double SliceSeconds = 10;

    public int MaxMessageBytes { get; set; }
    public int BigDocumentChars { get; set; }
    public int HonestClients { get; set; }
    public int HostileLoops { get; set; }
    /// <summary>Seconds since sampling began at which the hostile load started and stopped (the plot marks them).</summary>
    public double LoadFrom { get; set; }
    public double LoadTo { get; set; }
    /// <summary>After the load stopped: seconds until the server's descriptors were back within the margin of the start (or the drain gave up).</summary>
    public double DrainSeconds { get; set; }

    /// <summary>The server as the hostile load started (honest editors connected and typing), at its peak, and once the hostile clients were gone.</summary>
    public SoakSample? Start { get; set; }
    public SoakSample? End { get; set; }
    public long PeakRssKb { get; set; }
    public int PeakFds { get; set; }
    public int PeakThreads { get; set; }

    /// <summary>Honest acknowledgements in each <see cref="SliceSeconds"/> slice of the load (from the samples).</summary>
    public List<long> AcksPerSlice { get; set; } = [];
    public long HostileRefusals { get; set; }
    public SortedDictionary<string, long> Outcomes { get; set; } = [];
    public List<SoakSample> Samples { get; set; } = [];

    /// <summary>Fills the figures from the samples; <paramref name="start"/> and <paramref name="end"/> are the samples at the load's start and after the drain.</summary>
    public void Summarize(IReadOnlyList<SoakSample> samples, SoakSample start, SoakSample end)
    {
        Samples = [.. samples];
        Start = start;
        End = end;
        PeakRssKb = samples.Max(s => s.RssKb);
        PeakFds = samples.Max(s => s.Fds);
        PeakThreads = samples.Max(s => s.Threads);
        AcksPerSlice = [];
        for (var from = LoadFrom; from + SliceSeconds <= LoadTo + 0.5; from += SliceSeconds)
        {
            var to = from + SliceSeconds;
            var first = samples.LastOrDefault(s => s.T <= from) ?? samples[0];
            var last = samples.LastOrDefault(s => s.T <= to) ?? samples[^1];
            AcksPerSlice.Add(last.HonestAcks - first.HonestAcks);
        }
    }

    /// <summary>The rows the run's table shows for the soak.</summary>
    public IEnumerable<(string, string)> Rows()
    {
        static string Mib(long kb) => (kb / 1024.0).ToString("0.0", CultureInfo.InvariantCulture);
        yield return ("hostile loops", HostileLoops.ToString(CultureInfo.InvariantCulture));
        yield return ("server maxMessageBytes", MaxMessageBytes.ToString(CultureInfo.InvariantCulture));
        if (Start is { } s && End is { } e)
        {
            yield return ("RSS MiB start / peak / end", $"{Mib(s.RssKb)} / {Mib(PeakRssKb)} / {Mib(e.RssKb)}");
            yield return ("open fds start / peak / end", $"{s.Fds} / {PeakFds} / {e.Fds}");
            yield return ("threads start / peak / end", $"{s.Threads} / {PeakThreads} / {e.Threads}");
        }
        yield return ("drain after the load (s)", DrainSeconds.ToString("0.0", CultureInfo.InvariantCulture));
        if (AcksPerSlice.Count > 0)
            yield return ($"honest acks per {SliceSeconds:0} s (min / max)", $"{AcksPerSlice.Min()} / {AcksPerSlice.Max()} over {AcksPerSlice.Count} slices");
        yield return ("hostile refusals", HostileRefusals.ToString(CultureInfo.InvariantCulture));
        foreach (var (kind, n) in Outcomes) yield return ($"hostile: {kind}", n.ToString(CultureInfo.InvariantCulture));
    }
}
