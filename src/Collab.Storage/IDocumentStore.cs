namespace Collab.Storage;

/// <summary>Durable home of documents: an append-only op log fenced by revision, plus snapshots.</summary>
/// <remarks>
/// Every implementation must pass tests/Collab.Storage.Tests/DocumentStoreContract.cs.
/// An append is all-or-nothing and conditional: it succeeds only when its first op's revision is exactly
/// one past the last stored revision, so two writers of one document can never both extend its history.
/// </remarks>
public interface IDocumentStore
{
    /// <summary>Loads the newest snapshot and every op after it; a document never written loads as empty at revision 0.</summary>
    Task<StoredDocument> LoadAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends consecutive ops durably (on disk when the task completes).
    /// Throws <see cref="RevisionConflictException"/> when <c>ops[0].Rev</c> is not the stored revision + 1.
    /// </summary>
    Task AppendAsync(string documentId, IReadOnlyList<StoredOp> ops, CancellationToken cancellationToken = default);

    /// <summary>Stores a snapshot; an older snapshot than the one stored is ignored.</summary>
    Task SaveSnapshotAsync(string documentId, DocumentSnapshot snapshot, CancellationToken cancellationToken = default);

    /// <summary>Reads up to <paramref name="maxCount"/> ops with revision greater than <paramref name="afterRev"/>, in order.</summary>
    Task<IReadOnlyList<StoredOp>> ReadOpsAsync(string documentId, long afterRev, int maxCount, CancellationToken cancellationToken = default);

    /// <summary>The document's access record, or null when it has none.</summary>
    Task<StoredAccess?> LoadAccessAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>Stores (inserts or replaces) the document's access record durably.</summary>
    Task SaveAccessAsync(string documentId, StoredAccess access, CancellationToken cancellationToken = default);

    /// <summary>How many documents <paramref name="owner"/> created (see <see cref="AddOwnedAsync"/>).</summary>
    Task<int> CountOwnedAsync(string owner, CancellationToken cancellationToken = default);

    /// <summary>Records durably that <paramref name="owner"/> created the document; recording the same pair again changes nothing.</summary>
    Task AddOwnedAsync(string owner, string documentId, CancellationToken cancellationToken = default);

    /// <summary>The token revocations that have not expired at <paramref name="now"/>.</summary>
    Task<IReadOnlyList<StoredRevocation>> LoadRevocationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Stores a revocation durably (replacing one of the same kind and value); expired ones may be dropped.</summary>
    Task SaveRevocationAsync(StoredRevocation revocation, CancellationToken cancellationToken = default);

    /// <summary>Throws when the store cannot be reached (used by /readyz).</summary>
    Task PingAsync(CancellationToken cancellationToken = default);
}
