namespace Collab.Storage;

/// <summary>
/// An append carried a writer epoch that is no longer the document's: another writer (a newer activation of the
/// document) claimed it since. The writer was replaced and must stop serving the document; nothing was stored.
/// </summary>
public sealed class WriterFencedException : Exception
{
    public WriterFencedException(string documentId, long writerEpoch, long storedEpoch)
        : base($"Document '{documentId}': the append came from writer epoch {writerEpoch} but the document's writer is epoch {storedEpoch}.")
    {
        DocumentId = documentId;
        WriterEpoch = writerEpoch;
        StoredEpoch = storedEpoch;
    }

    public WriterFencedException() { DocumentId = string.Empty; }
    public WriterFencedException(string message) : base(message) { DocumentId = string.Empty; }
    public WriterFencedException(string message, Exception innerException) : base(message, innerException) { DocumentId = string.Empty; }

    public string DocumentId { get; }
    public long WriterEpoch { get; }
    public long StoredEpoch { get; }
}
