namespace Collab.Storage;

/// <summary>
/// An append did not start right after the stored revision: another writer (a second activation of the
/// document) got there first, or this writer's view is stale. The writer must stop serving the document.
/// </summary>
public sealed class RevisionConflictException : Exception
{
    public RevisionConflictException(string documentId, long expectedRev, long storedRev)
        : base($"Document '{documentId}': append expected stored revision {expectedRev} but the store is at {storedRev}.")
    {
        DocumentId = documentId;
        ExpectedRev = expectedRev;
        StoredRev = storedRev;
    }

    public RevisionConflictException() { DocumentId = string.Empty; }
    public RevisionConflictException(string message) : base(message) { DocumentId = string.Empty; }
    public RevisionConflictException(string message, Exception innerException) : base(message, innerException) { DocumentId = string.Empty; }

    public string DocumentId { get; }
    public long ExpectedRev { get; }
    public long StoredRev { get; }
}
