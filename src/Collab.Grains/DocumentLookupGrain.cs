using Collab.Contracts;
using Collab.Storage;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace Collab.Grains;

/// <summary>
/// Looks documents up in the store without activating them. The op log is never truncated, so a document with no op
/// at revision 1 and no access record was never written: its state is revision 0 and empty text, whoever asks.
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
            var access = store.LoadAccessAsync(documentId);
            var firstOp = store.ReadOpsAsync(documentId, afterRev: 0, maxCount: 1);
            await Task.WhenAll(access, firstOp);
            return (await firstOp).Count > 0 || await access is not null;
        }
        catch (Exception e)
        {
            // The caller gets the same retryable answer as for a document that cannot be loaded; the detail stays here.
            LogLookupFailed(logger, documentId, e);
            throw new DocumentUnavailableException($"Document '{documentId}' cannot be looked up right now; retry shortly.");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking up document {DocumentId} in the store failed")]
    private static partial void LogLookupFailed(ILogger logger, string documentId, Exception error);
}
