namespace Collab.Storage;

/// <summary>What one document occupies in the store: its op log, its history checkpoints and its newest snapshot.</summary>
/// <param name="Ops">Ops the log holds (compaction removes those folded into a checkpoint).</param>
/// <param name="OpBytes">Their size as stored (the op's canonical JSON, UTF-8).</param>
/// <param name="FirstOpRev">The oldest revision the log still holds as an op; 0 when it holds none.</param>
/// <param name="Checkpoints">History checkpoints kept (full texts at chosen revisions).</param>
/// <param name="CheckpointBytes">Their texts' size (UTF-8).</param>
/// <param name="SnapshotRev">The newest snapshot's revision; 0 when there is none.</param>
/// <param name="SnapshotBytes">The newest snapshot's text size (UTF-8).</param>
public sealed record DocumentStorageSize(long Ops, long OpBytes, long FirstOpRev, long Checkpoints, long CheckpointBytes, long SnapshotRev, long SnapshotBytes)
{
    /// <summary>A document the store has never seen.</summary>
    public static DocumentStorageSize None { get; } = new(0, 0, 0, 0, 0, 0, 0);

    /// <summary>Everything the document's rows carry, without the store's own overhead (indexes, pages, WAL).</summary>
    public long TotalBytes => OpBytes + CheckpointBytes + SnapshotBytes;

    /// <summary>True when the store holds an op or a snapshot of the document (it was written).</summary>
    public bool HasContent => Ops > 0 || SnapshotRev > 0;
}

/// <summary>The whole store's footprint.</summary>
/// <param name="Bytes">What the store occupies: the SQLite file and its WAL, or the PostgreSQL tables with their indexes and TOAST.</param>
/// <param name="FreeBytes">Of those, bytes free for reuse (SQLite's free pages; 0 where the store does not report it).</param>
/// <param name="LimitBytes">The configured ceiling (SQLite's <c>MaxSizeBytes</c>); null when unlimited.</param>
public sealed record StoreSize(long Bytes, long FreeBytes, long? LimitBytes);

/// <summary>What one compaction of one document may fold away.</summary>
/// <param name="RetainSince">Ops committed at or after this time are kept (with the checkpoint they need).</param>
/// <param name="MaxOpBytes">Beyond this many bytes of ops, older ones are folded even inside the retention window.</param>
/// <param name="KeepCheckpointEvery">Of the checkpoints older than the compaction point, one per this many revisions is kept.</param>
public sealed record CompactionPolicy(DateTimeOffset RetainSince, long MaxOpBytes, long KeepCheckpointEvery);

/// <summary>What a compaction removed.</summary>
/// <param name="FoldedThroughRev">Ops up to this revision are gone (folded into the checkpoint at it); 0 when nothing was folded.</param>
/// <param name="OpsDeleted">Ops removed.</param>
/// <param name="CheckpointsDeleted">Old checkpoints thinned out.</param>
public sealed record CompactionResult(long FoldedThroughRev, long OpsDeleted, long CheckpointsDeleted)
{
    public static CompactionResult Nothing { get; } = new(0, 0, 0);
}
