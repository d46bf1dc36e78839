using System.Diagnostics.Metrics;

namespace Collab.Grains;

/// <summary>The document grains' meter (<c>Collab.Documents</c>): what the silos commit and how fast.</summary>
public static class DocumentMetrics
{
    public const string MeterName = "Collab.Documents";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>Document activations on this silo (activated minus deactivated).</summary>
    public static readonly UpDownCounter<long> Active = Meter.CreateUpDownCounter<long>(
        "collab.documents.active", "{document}", "Document grains active on this silo.");

    /// <summary>Ops committed (durable and acknowledged).</summary>
    public static readonly Counter<long> OpsCommitted = Meter.CreateCounter<long>(
        "collab.ops.committed", "{op}", "Ops committed durably (each acknowledged and broadcast once).");

    /// <summary>How long one append took in the store (the fsync the acks wait for).</summary>
    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram(
        "collab.commit.duration", "s", "Time one group-committed append of a document took in the store.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    /// <summary>Ops per append: more than one when ops arrive while a write is in flight (group commit).</summary>
    public static readonly Histogram<int> CommitBatchOps = Meter.CreateHistogram(
        "collab.commit.batch.ops", "{op}", "Ops written together in one append of one document.",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] });

    /// <summary>How many concurrent ops a submitted op was transformed over (its revision's distance from the head).</summary>
    public static readonly Histogram<long> TransformDepth = Meter.CreateHistogram<long>(
        "collab.transform.depth", "{op}", "Ops a submitted op was transformed over.",
        advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 1024] });

    /// <summary>Submits answered with anything but Committed/Duplicate, by <c>collab.status</c>.</summary>
    public static readonly Counter<long> SubmitsRefused = Meter.CreateCounter<long>(
        "collab.submits.refused", "{submit}", "Submits not committed, by status (rate_limited, stale_rev, unavailable, …).");
}
