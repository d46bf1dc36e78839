namespace Collab.Contracts;

/// <summary>How a submit ended.</summary>
public enum SubmitStatus
{
    /// <summary>Committed now at <see cref="SubmitResult.Rev"/>.</summary>
    Committed,
    /// <summary>(clientId, seq) was committed before, at <see cref="SubmitResult.Rev"/>; nothing was applied again.</summary>
    Duplicate,
    /// <summary>The op does not fit the document (base length, surrogate pairs, size).</summary>
    BadOp,
    /// <summary>The base revision is older than the window of ops the server can transform against: rejoin.</summary>
    StaleRev,
    /// <summary>The request contradicts the document (revision ahead of it, seq reused).</summary>
    BadRequest,
    /// <summary>The op would make the document longer than its limit.</summary>
    TooLarge,
    /// <summary>The document receives more ops per second than its limit; retry after <see cref="SubmitResult.RetryAfterMs"/>.</summary>
    RateLimited,
    /// <summary>The document could not commit (store failure or lost fence); retry the same seq after a pause.</summary>
    Unavailable,
}

/// <summary>The outcome of <see cref="IDocumentGrain.Submit"/>.</summary>
[GenerateSerializer, Immutable, Alias("collab.SubmitResult")]
public sealed record SubmitResult(
    [property: Id(0)] SubmitStatus Status,
    [property: Id(1)] long Rev,
    [property: Id(2)] string? Message = null,
    [property: Id(3)] int RetryAfterMs = 0)
{
    public bool IsSuccess => Status is SubmitStatus.Committed or SubmitStatus.Duplicate;
}
