namespace Collab.Storage;

/// <summary>Durable home of documents: an op log fenced by revision, the newest snapshot, and history checkpoints.</summary>
/// <remarks>
/// Every implementation must pass tests/Collab.Storage.Tests/DocumentStoreContract.cs.
/// An append is all-or-nothing and doubly conditional: it succeeds only when its first op's revision is exactly one past
/// the last stored revision, so two writers of one document can never both extend its history, and only when it carries
/// the document's current writer epoch (<see cref="ClaimWriterAsync"/>), so a writer that was replaced can never append
/// again, even when its revision would fit.
/// The log is append-only except for compaction, which removes ops no older than a checkpoint that covers them:
/// loading a document (newest snapshot + the ops after it) is never affected, and catch-ups that would need a removed
/// op get the text instead.
/// </remarks>
public interface IDocumentStore
{
    /// <summary>Loads the newest snapshot and every op after it; a document never written loads as empty at revision 0.</summary>
    Task<StoredDocument> LoadAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes the caller the document's only writer: durably raises its writer epoch and returns the new one (1 or more);
    /// from then on every append that carries an older epoch is refused with <see cref="WriterFencedException"/>. Claim
    /// first, then load: whatever an earlier writer appended before the claim is in the load, and nothing after it.
    /// A document the store holds nothing of (no op, snapshot or access record) is not claimed: the answer is 0 and
    /// nothing is written (so activating a fresh name costs no write); writers of epoch 0 are fenced by revision alone
    /// until somebody claims the document.
    /// </summary>
    Task<long> ClaimWriterAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends consecutive ops durably (on disk when the task completes), as the writer of <paramref name="writerEpoch"/>.
    /// Throws <see cref="WriterFencedException"/> when the document's writer epoch is not <paramref name="writerEpoch"/>
    /// (another writer claimed it since), and <see cref="RevisionConflictException"/> when <c>ops[0].Rev</c> is not the
    /// stored revision + 1. Nothing is stored when either is thrown.
    /// </summary>
    Task AppendAsync(string documentId, IReadOnlyList<StoredOp> ops, long writerEpoch = 0, CancellationToken cancellationToken = default);

    /// <summary>The stored revision: the newest op's or the snapshot's, whichever is newer (0 for a document never written).</summary>
    Task<long> GetRevisionAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a snapshot; an older snapshot than the one stored is ignored. With <paramref name="checkpoint"/> its text is
    /// also kept as a history checkpoint, which compaction may fold older ops into.
    /// </summary>
    Task SaveSnapshotAsync(string documentId, DocumentSnapshot snapshot, bool checkpoint = false, CancellationToken cancellationToken = default);

    /// <summary>True when the store holds anything of the document: an op, a snapshot or an access record (it was written).</summary>
    Task<bool> ExistsAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>What the document occupies in the store (<see cref="DocumentStorageSize.None"/> when it was never written).</summary>
    Task<DocumentStorageSize> MeasureAsync(string documentId, CancellationToken cancellationToken = default);

    /// <summary>What the whole store occupies.</summary>
    Task<StoreSize> MeasureStoreAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Documents, in id order after <paramref name="afterDocumentId"/>, that hold an op committed before
    /// <paramref name="committedBefore"/> which a checkpoint saved before then covers: what compaction by time would fold.
    /// At most <paramref name="limit"/>.
    /// </summary>
    Task<IReadOnlyList<string>> ListCompactableAsync(DateTimeOffset committedBefore, string? afterDocumentId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Folds old ops of one document away: finds the newest revision that is older than the retention window (or beyond
    /// the op-byte budget), the newest checkpoint at or before it, deletes every op up to that checkpoint and thins older
    /// checkpoints. Idempotent; safe while the document is being edited (it never touches ops after the checkpoint).
    /// </summary>
    Task<CompactionResult> CompactAsync(string documentId, CompactionPolicy policy, CancellationToken cancellationToken = default);

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
