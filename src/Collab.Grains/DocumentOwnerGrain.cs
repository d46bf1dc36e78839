using Collab.Contracts;
using Collab.Storage;
using Microsoft.Extensions.Logging;

namespace Collab.Grains;

/// <summary>
/// Counts one owner's documents (loaded from the store's <c>owned</c> table on activation) and creates new ones in
/// turn: not reentrant, so two creations by one owner never both pass the cap.
/// </summary>
public sealed partial class DocumentOwnerGrain(IDocumentStore store, ILogger<DocumentOwnerGrain> logger) : Grain, IDocumentOwnerGrain
{
    private int owned;

    private string Owner => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        try
        {
            owned = await store.CountOwnedAsync(Owner, cancellationToken);
        }
        catch (Exception e) when (!PortableExceptionFilter.IsPortable(e))
        {
            // Activation failures reach the caller without passing the call filter: map the store's exception here.
            LogActivationFailed(logger, e);
            throw PortableExceptionFilter.Unavailable(nameof(IDocumentOwnerGrain), nameof(Create));
        }
    }

    public async Task<Creation> Create(string documentId, bool withAccess, int maxDocuments)
    {
        if (maxDocuments > 0 && owned >= maxDocuments)
        {
            LogOverQuota(logger, maxDocuments);
            return new Creation(CreationStatus.OverQuota, null, owned);
        }
        DocumentAccess? access = null;
        if (withAccess)
        {
            access = await GrainFactory.GetGrain<IDocumentGrain>(documentId).CreateAccess(claimExisting: false);
            if (access is null) return new Creation(CreationStatus.Exists, null, owned);
        }
        else if (await GrainFactory.GetGrain<IDocumentLookupGrain>(0).IsWritten(documentId))
        {
            // Tokens mode: a document somebody wrote already is not this owner's new one.
            return new Creation(CreationStatus.Exists, null, owned);
        }
        // Counted after the document exists: a failure here leaves it uncounted rather than counting one never made.
        await store.AddOwnedAsync(Owner, documentId);
        owned = await store.CountOwnedAsync(Owner);
        return new Creation(CreationStatus.Created, access, owned);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "An owner's document count could not be read from the store")]
    private static partial void LogActivationFailed(ILogger logger, Exception error);

    // Not the owner key: it is a client address or a user's subject.
    [LoggerMessage(Level = LogLevel.Information, Message = "An owner reached the cap of {Max} documents; a creation was refused")]
    private static partial void LogOverQuota(ILogger logger, int max);
}
