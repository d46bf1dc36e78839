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

    /// <summary>The tags of one store's measurements.</summary>
    public static KeyValuePair<string, object?>[] Tags(string system, string database) =>
        [new("db.system", system), new("db.namespace", database)];
}
