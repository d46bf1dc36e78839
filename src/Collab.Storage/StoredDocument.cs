namespace Collab.Storage;

/// <summary>What loading a document yields: the newest snapshot and the ops committed after it, in revision order.</summary>
public sealed record StoredDocument(DocumentSnapshot Snapshot, IReadOnlyList<StoredOp> Tail)
{
    /// <summary>The revision of the document once <see cref="Tail"/> is applied to <see cref="Snapshot"/>.</summary>
    public long Rev => Tail.Count == 0 ? Snapshot.Rev : Tail[^1].Rev;

    /// <summary>The newest history checkpoint's revision (0 when there is none).</summary>
    public long CheckpointRev { get; init; }
}
