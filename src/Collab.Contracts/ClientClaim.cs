namespace Collab.Contracts;

/// <summary>
/// A session joining a document claims its client key there: the key its ops are deduplicated by. <see cref="Instance"/>
/// identifies the page (or program run) behind the session, so a reconnect of the same page may take over its own stale
/// session while a different page presenting the same key (a duplicated browser tab) is refused.
/// </summary>
[GenerateSerializer, Immutable, Alias("collab.ClientClaim")]
public sealed record ClientClaim(
    [property: Id(0)] string ClientKey,
    [property: Id(1)] string SessionId,
    [property: Id(2)] string HostId,
    [property: Id(3)] string? Instance);
