using Collab.Storage;

namespace Collab.Grains.Compaction;

/// <summary>How the op log is compacted, bound from <c>Collab:Compaction</c> (docs/architecture.md, "Disk").</summary>
public sealed class CompactionOptions
{
    public const string Section = "Collab:Compaction";

    /// <summary>False: ops are never folded away (the log grows with every edit).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Every op committed within this window stays in the log (history shows each edit); older ones are folded.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// The most bytes of ops one document keeps, counted from the newest back: beyond, older ops are folded even inside
    /// <see cref="Retention"/> (a document edited by the megabyte cannot fill the disk within the window).
    /// </summary>
    public long MaxOpBytesPerDocument { get; set; } = 64L * 1024 * 1024;

    /// <summary>Before the compaction point only checkpoints remain: the newest of every this many revisions is kept.</summary>
    public long KeepCheckpointEvery { get; set; } = 10_000;

    /// <summary>How often each silo sweeps the store for documents with ops older than <see cref="Retention"/>.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How often the store's size is measured (for the <c>collab.store.size</c> gauge and the logs).</summary>
    public TimeSpan MeasureInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The policy for a compaction that starts at <paramref name="now"/>.</summary>
    public CompactionPolicy Policy(DateTimeOffset now) => new(now - Retention, MaxOpBytesPerDocument, KeepCheckpointEvery);

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate()
    {
        if (Retention < TimeSpan.Zero) return $"{Section}:Retention must not be negative (was {Retention}).";
        if (MaxOpBytesPerDocument < 64 * 1024) return $"{Section}:MaxOpBytesPerDocument must be at least 65536 (was {MaxOpBytesPerDocument}).";
        if (KeepCheckpointEvery < 1) return $"{Section}:KeepCheckpointEvery must be at least 1 (was {KeepCheckpointEvery}).";
        if (Interval < TimeSpan.FromSeconds(1)) return $"{Section}:Interval must be at least 00:00:01 (was {Interval}).";
        if (MeasureInterval < TimeSpan.FromSeconds(1)) return $"{Section}:MeasureInterval must be at least 00:00:01 (was {MeasureInterval}).";
        return null;
    }
}
