using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Collab.Storage;

/// <summary>
/// The stores' meter (<c>Collab.Storage</c>), exported with the rest of Collab's telemetry. Each measurement carries
/// <c>db.system</c> (<c>sqlite</c>, <c>postgresql</c>) and <c>db.namespace</c> (the SQLite file; PostgreSQL
/// <c>database|schema</c>, as OpenTelemetry's conventions name it).
/// </summary>
public static class StoreMetrics
{
    public const string MeterName = "Collab.Storage";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Write transactions committed, each one durable flush: fewer than appends when group commit works.</summary>
    public static readonly Counter<long> Transactions = Meter.CreateCounter<long>(
        "collab.store.transactions", "{transaction}", "Write transactions committed (each one durable flush).");

    /// <summary>How many appends and snapshots one transaction carried.</summary>
    public static readonly Histogram<int> BatchRequests = Meter.CreateHistogram<int>(
        "collab.store.batch.requests", "{request}", "Appends and snapshots committed together in one transaction.");

    /// <summary>Ops folded into checkpoints (deleted from the log) by compaction.</summary>
    public static readonly Counter<long> CompactedOps = Meter.CreateCounter<long>(
        "collab.store.compaction.ops", "{op}", "Ops folded into history checkpoints and deleted from the log by compaction.");

    private static readonly ConcurrentDictionary<string, (StoreSize Size, KeyValuePair<string, object?>[] Tags)> Sizes = new();

    /// <summary>What the store occupies (file + WAL, or tables with indexes), as last measured by the compactor.</summary>
    public static readonly ObservableGauge<long> Size = Meter.CreateObservableGauge(
        "collab.store.size", () => Sizes.Values.Select(v => new Measurement<long>(v.Size.Bytes, v.Tags)), "By",
        "Bytes the document store occupies, as last measured.");

    /// <summary>Of <see cref="Size"/>, the bytes free for reuse.</summary>
    public static readonly ObservableGauge<long> FreeSize = Meter.CreateObservableGauge(
        "collab.store.free", () => Sizes.Values.Select(v => new Measurement<long>(v.Size.FreeBytes, v.Tags)), "By",
        "Bytes inside the document store free for reuse, as last measured.");

    /// <summary>Records a store's latest size for the gauges.</summary>
    public static void ReportSize(StoreSize size, KeyValuePair<string, object?>[] tags) =>
        Sizes[string.Join('|', tags.Select(t => t.Value))] = (size, tags);

    /// <summary>The tags of one store's measurements.</summary>
    public static KeyValuePair<string, object?>[] Tags(string system, string database) =>
        [new("db.system", system), new("db.namespace", database)];
}
