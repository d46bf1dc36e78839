namespace Collab.Contracts;

/// <summary>
/// The document cannot serve this call right now (its activation lost a write or its fence and is moving to a new
/// activation, or its store is unreachable); the same call will succeed shortly.
/// </summary>
[GenerateSerializer, Alias("collab.DocumentUnavailableException")]
public sealed class DocumentUnavailableException : Exception
{
    public DocumentUnavailableException() : base("The document is unavailable; retry shortly.")
    {
    }

    public DocumentUnavailableException(string message) : base(message)
    {
    }

    public DocumentUnavailableException(string message, Exception innerException) : base(message, innerException)
    {
    }
}
