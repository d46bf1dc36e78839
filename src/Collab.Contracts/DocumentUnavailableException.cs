namespace Collab.Contracts;

/// <summary>
/// The document cannot serve this call right now (its activation lost a write or its fence and is moving to a new
/// activation, or its store is unreachable); the same call will succeed shortly. Silos also answer it for any grain
/// call (owners, revocations, lookups, the management grain) that failed with an exception its caller could not decode
/// (a store driver's or a clustering provider's own type): see <c>PortableExceptionFilter</c>.
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
