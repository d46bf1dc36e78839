namespace Collab.Contracts;

/// <summary>
/// Answers whether a document was ever written, from the store and without activating it, so that reads of names
/// nobody wrote leave no resident <see cref="IDocumentGrain"/> behind. A stateless worker: callers use key 0, and each
/// silo runs a bounded number of activations next to its store (client-mode front ends have none).
/// </summary>
public interface IDocumentLookupGrain : IGrainWithIntegerKey
{
    /// <summary>True when the document has a committed op or an access record in the store.</summary>
    Task<bool> IsWritten(string documentId);

    /// <summary>What the document occupies in the store.</summary>
    Task<DocumentStoreUsage> Measure(string documentId);

    /// <summary>What the whole store occupies.</summary>
    Task<StoreUsage> MeasureStore();
}
