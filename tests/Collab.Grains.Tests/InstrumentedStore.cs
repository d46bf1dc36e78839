using System.Collections.Concurrent;
using Collab.Storage;
using Collab.Storage.Sqlite;

namespace Collab.Grains.Tests;

/// <summary>The real SQLite store, with a record of every append and hooks to slow down or hold appends of chosen documents.</summary>
public sealed class InstrumentedStore : IDocumentStore, IAsyncDisposable
{
    private readonly SqliteDocumentStore inner;

    public InstrumentedStore(string dataPath)
    {
        DataPath = dataPath;
        inner = new SqliteDocumentStore(new SqliteDocumentStoreOptions { DataPath = dataPath });
    }

    public string DataPath { get; }

    public SqliteDocumentStore Inner => inner;

    /// <summary>The size of every append, per document, in call order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<int>> Appends { get; } = new();

    /// <summary>Awaited before an append of the document reaches SQLite.</summary>
    public ConcurrentDictionary<string, Func<Task>> BeforeAppend { get; } = new();

    /// <summary>Awaited before a snapshot of the document reaches SQLite.</summary>
    public ConcurrentDictionary<string, Func<Task>> BeforeSnapshot { get; } = new();

    /// <summary>
    /// Store methods (by name, e.g. <c>CountOwnedAsync</c>) that fail with the exception this makes, as a driver's own
    /// exception type would (one no caller of the grains can decode).
    /// </summary>
    public ConcurrentDictionary<string, Func<Exception>> Faults { get; } = new(StringComparer.Ordinal);

    private Task<T> Faulted<T>(string method, Func<Task<T>> call) => Faults.TryGetValue(method, out var fault) ? Task.FromException<T>(fault()) : call();

    private Task Faulted(string method, Func<Task> call) => Faults.TryGetValue(method, out var fault) ? Task.FromException(fault()) : call();

    /// <summary>Documents whose appends complete synchronously (as a network store's may when the reply is already buffered).</summary>
    public ConcurrentDictionary<string, bool> SynchronousAppends { get; } = new();

    public Task AppendAsync(string documentId, IReadOnlyList<StoredOp> ops, long writerEpoch = 0, CancellationToken cancellationToken = default)
    {
        Appends.GetOrAdd(documentId, _ => new ConcurrentQueue<int>()).Enqueue(ops.Count);
        if (!SynchronousAppends.ContainsKey(documentId)) return AppendCoreAsync(documentId, ops, writerEpoch, cancellationToken);
        Task.Run(() => inner.AppendAsync(documentId, ops, writerEpoch, cancellationToken), cancellationToken).GetAwaiter().GetResult();
        return Task.CompletedTask;
    }

    private async Task AppendCoreAsync(string documentId, IReadOnlyList<StoredOp> ops, long writerEpoch, CancellationToken cancellationToken)
    {
        if (BeforeAppend.TryGetValue(documentId, out var hook)) await hook();
        await inner.AppendAsync(documentId, ops, writerEpoch, cancellationToken);
    }

    public Task<long> ClaimWriterAsync(string documentId, CancellationToken cancellationToken = default) => Faulted(nameof(ClaimWriterAsync), () => inner.ClaimWriterAsync(documentId, cancellationToken));

    public Task<long> GetRevisionAsync(string documentId, CancellationToken cancellationToken = default) => Faulted(nameof(GetRevisionAsync), () => inner.GetRevisionAsync(documentId, cancellationToken));

    public Task<StoredDocument> LoadAsync(string documentId, CancellationToken cancellationToken = default) => Faulted(nameof(LoadAsync), () => inner.LoadAsync(documentId, cancellationToken));

    public async Task SaveSnapshotAsync(string documentId, DocumentSnapshot snapshot, bool checkpoint = false, CancellationToken cancellationToken = default)
    {
        if (BeforeSnapshot.TryGetValue(documentId, out var hook)) await hook();
        await inner.SaveSnapshotAsync(documentId, snapshot, checkpoint, cancellationToken);
    }

    public Task<bool> ExistsAsync(string documentId, CancellationToken cancellationToken = default) => Faulted(nameof(ExistsAsync), () => inner.ExistsAsync(documentId, cancellationToken));

    public Task<DocumentStorageSize> MeasureAsync(string documentId, CancellationToken cancellationToken = default) =>
        Faulted(nameof(MeasureAsync), () => inner.MeasureAsync(documentId, cancellationToken));

    public Task<StoreSize> MeasureStoreAsync(CancellationToken cancellationToken = default) => Faulted(nameof(MeasureStoreAsync), () => inner.MeasureStoreAsync(cancellationToken));

    public Task<IReadOnlyList<string>> ListCompactableAsync(DateTimeOffset committedBefore, string? afterDocumentId, int limit,
        CancellationToken cancellationToken = default) => inner.ListCompactableAsync(committedBefore, afterDocumentId, limit, cancellationToken);

    public Task<CompactionResult> CompactAsync(string documentId, CompactionPolicy policy, CancellationToken cancellationToken = default) =>
        inner.CompactAsync(documentId, policy, cancellationToken);

    public Task<IReadOnlyList<StoredOp>> ReadOpsAsync(string documentId, long afterRev, int maxCount, CancellationToken cancellationToken = default) =>
        Faulted(nameof(ReadOpsAsync), () => inner.ReadOpsAsync(documentId, afterRev, maxCount, cancellationToken));

    public Task PingAsync(CancellationToken cancellationToken = default) => inner.PingAsync(cancellationToken);

    public Task<StoredAccess?> LoadAccessAsync(string documentId, CancellationToken cancellationToken = default) =>
        Faulted(nameof(LoadAccessAsync), () => inner.LoadAccessAsync(documentId, cancellationToken));

    public Task<IReadOnlyList<StoredRevocation>> LoadRevocationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default) =>
        Faulted(nameof(LoadRevocationsAsync), () => inner.LoadRevocationsAsync(now, cancellationToken));

    public Task SaveRevocationAsync(StoredRevocation revocation, CancellationToken cancellationToken = default) =>
        Faulted(nameof(SaveRevocationAsync), () => inner.SaveRevocationAsync(revocation, cancellationToken));

    public Task SaveAccessAsync(string documentId, StoredAccess access, CancellationToken cancellationToken = default) =>
        Faulted(nameof(SaveAccessAsync), () => inner.SaveAccessAsync(documentId, access, cancellationToken));

    public Task<int> CountOwnedAsync(string owner, CancellationToken cancellationToken = default) => Faulted(nameof(CountOwnedAsync), () => inner.CountOwnedAsync(owner, cancellationToken));

    public Task AddOwnedAsync(string owner, string documentId, CancellationToken cancellationToken = default) =>
        Faulted(nameof(AddOwnedAsync), () => inner.AddOwnedAsync(owner, documentId, cancellationToken));

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
