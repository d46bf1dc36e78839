namespace Collab.Storage.Sqlite;

/// <summary>One caller's pending write; completed by the writer loop only after the transaction holding it committed.</summary>
internal abstract class WriteRequest(string documentId, CancellationToken cancellationToken)
{
    private readonly TaskCompletionSource completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public string DocumentId { get; } = documentId;

    public CancellationToken CancellationToken { get; } = cancellationToken;

    public Task Completion => completion.Task;

    public virtual int OpCount => 0;

    public void Succeed() => completion.TrySetResult();

    public void Fail(Exception exception) => completion.TrySetException(exception);

    public void Cancel() => completion.TrySetCanceled(CancellationToken);
}

/// <summary>Append consecutive ops, fenced on the writer epoch and the stored revision.</summary>
internal sealed class AppendRequest(string documentId, StoredOp[] ops, long writerEpoch, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public StoredOp[] Ops { get; } = ops;

    public long WriterEpoch { get; } = writerEpoch;

    public override int OpCount => Ops.Length;
}

/// <summary>Raise a document's writer epoch (when the store holds anything of it).</summary>
internal sealed class ClaimRequest(string documentId, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    /// <summary>Set by the writer: the new epoch, or 0 when the document was not claimed (valid once completed).</summary>
    public long Epoch { get; set; }
}

/// <summary>Upsert a snapshot unless a newer one is stored; a checkpoint is kept in the history as well.</summary>
internal sealed class SnapshotRequest(string documentId, DocumentSnapshot snapshot, string clientsJson, bool checkpoint, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public DocumentSnapshot Snapshot { get; } = snapshot;

    public string ClientsJson { get; } = clientsJson;

    public bool Checkpoint { get; } = checkpoint;
}

/// <summary>Fold a document's old ops into a checkpoint (at most <see cref="MaxOpsPerRequest"/> per request).</summary>
internal sealed class CompactRequest(string documentId, CompactionPolicy policy, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    /// <summary>Ops deleted in one request, so a long log is folded in steps that never hold the writer long.</summary>
    public const int MaxOpsPerRequest = 2_000;

    public CompactionPolicy Policy { get; } = policy;

    /// <summary>Set by the writer when the request ran (valid once <see cref="WriteRequest.Completion"/> succeeded).</summary>
    public CompactionResult Result { get; set; } = CompactionResult.Nothing;

    /// <summary>True when ops up to the compaction point remain (the step limit was reached).</summary>
    public bool More { get; set; }
}

/// <summary>Insert or replace a document's access record.</summary>
internal sealed class AccessRequest(string documentId, StoredAccess access, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public StoredAccess Access { get; } = access;
}

/// <summary>Record that an owner created a document (once).</summary>
internal sealed class OwnedRequest(string owner, string documentId, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public string Owner { get; } = owner;
}

/// <summary>Insert or replace a token revocation (and drop the expired ones).</summary>
internal sealed class RevocationRequest(StoredRevocation revocation, CancellationToken cancellationToken)
    : WriteRequest("(revocations)", cancellationToken)
{
    public StoredRevocation Revocation { get; } = revocation;
}
