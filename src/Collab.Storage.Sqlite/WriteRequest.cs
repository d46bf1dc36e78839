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

/// <summary>Append consecutive ops, fenced on the stored revision.</summary>
internal sealed class AppendRequest(string documentId, StoredOp[] ops, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public StoredOp[] Ops { get; } = ops;

    public override int OpCount => Ops.Length;
}

/// <summary>Upsert a snapshot unless a newer one is stored.</summary>
internal sealed class SnapshotRequest(string documentId, DocumentSnapshot snapshot, string clientsJson, CancellationToken cancellationToken)
    : WriteRequest(documentId, cancellationToken)
{
    public DocumentSnapshot Snapshot { get; } = snapshot;

    public string ClientsJson { get; } = clientsJson;
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
