namespace Collab.Contracts;

/// <summary>What one document occupies in the store (see <c>docs/architecture.md</c>, "Disk").</summary>
[GenerateSerializer, Immutable, Alias("collab.DocumentStoreUsage")]
public sealed record DocumentStoreUsage(
    [property: Id(0)] long Ops,
    [property: Id(1)] long OpBytes,
    [property: Id(2)] long FirstOpRev,
    [property: Id(3)] long Checkpoints,
    [property: Id(4)] long CheckpointBytes,
    [property: Id(5)] long SnapshotRev,
    [property: Id(6)] long SnapshotBytes)
{
    public long TotalBytes => OpBytes + CheckpointBytes + SnapshotBytes;
}

/// <summary>What the whole store occupies: bytes on disk (or in its tables), free bytes inside them, and its ceiling.</summary>
[GenerateSerializer, Immutable, Alias("collab.StoreUsage")]
public sealed record StoreUsage(
    [property: Id(0)] long Bytes,
    [property: Id(1)] long FreeBytes,
    [property: Id(2)] long? LimitBytes);
