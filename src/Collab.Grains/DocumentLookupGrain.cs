using Collab.Contracts;
using Collab.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Collab.Grains;

/// <summary>
/// Looks documents up in the store without activating them. A document with no op, no snapshot and no access record
/// was never written: its state is revision 0 and empty text, whoever asks.
/// </summary>
/// <remarks>
/// Stateless and holding nothing, so it is reentrant: the few activations a silo makes of it (at most one per core)
/// serve every lookup of that silo while the store works.
/// </remarks>
[StatelessWorker, Reentrant]
public sealed partial class DocumentLookupGrain(IDocumentStore store, ILogger<DocumentLookupGrain> logger) : Grain, IDocumentLookupGrain
{
    public async Task<bool> IsWritten(string documentId)
    {
        try
        {
            return await store.ExistsAsync(documentId);
        }
        catch (Exception e)
        {
            // The caller gets the same retryable answer as for a document that cannot be loaded; the detail stays here.
            LogLookupFailed(logger, documentId, e);
            throw new DocumentUnavailableException($"Document '{documentId}' cannot be looked up right now; retry shortly.");
        }
    }

    public async Task<DocumentStoreUsage> Measure(string documentId)
    {
        try
        {
            var size = await store.MeasureAsync(documentId);
            return new DocumentStoreUsage(size.Ops, size.OpBytes, size.FirstOpRev, size.Checkpoints, size.CheckpointBytes, size.SnapshotRev, size.SnapshotBytes);
        }
        catch (Exception e)
        {
            LogLookupFailed(logger, documentId, e);
            throw new DocumentUnavailableException($"Document '{documentId}' cannot be measured right now; retry shortly.");
        }
    }

    public async Task<StoreUsage> MeasureStore()
    {
        try
        {
            var size = await store.MeasureStoreAsync();
            return new StoreUsage(size.Bytes, size.FreeBytes, size.LimitBytes);
        }
        catch (Exception e)
        {
            LogLookupFailed(logger, "(store)", e);
            throw new DocumentUnavailableException("The store cannot be measured right now; retry shortly.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up document {DocumentId} in the store failed")]
    private static partial void LogLookupFailed(ILogger logger, string documentId, Exception error);
}
