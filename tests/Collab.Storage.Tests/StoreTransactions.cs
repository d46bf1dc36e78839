using System.Diagnostics.Metrics;

namespace Collab.Storage.Tests;

/// <summary>
/// Counts one store's committed transactions from the <c>collab.store.transactions</c> metric, the figure an operator
/// sees; other stores measured at the same time (tests run in parallel) are told apart by their <c>db.namespace</c>.
/// </summary>
internal sealed class StoreTransactions : IDisposable
{
    private readonly MeterListener listener = new();
    private readonly string database;
    private long count;

    public StoreTransactions(string database)
    {
        this.database = database;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == StoreMetrics.MeterName && instrument.Name == "collab.store.transactions") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "db.namespace" && Equals(tag.Value, this.database)) Interlocked.Add(ref count, value);
            }
        });
        listener.Start();
    }

    public long Count => Interlocked.Read(ref count);

    public void Dispose() => listener.Dispose();
}
