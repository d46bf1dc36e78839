namespace Collab.Contracts;

/// <summary>Where a session's cursor and selection are, at the revision the client saw.</summary>
[GenerateSerializer, Immutable, Alias("collab.PresenceState")]
public sealed record PresenceState(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string ClientId,
    [property: Id(2)] UserInfo? User,
    [property: Id(3)] long Rev,
    [property: Id(4)] int Anchor,
    [property: Id(5)] int Head);

/// <summary>How a person appears to others.</summary>
[GenerateSerializer, Immutable, Alias("collab.UserInfo")]
public sealed record UserInfo(
    [property: Id(0)] string? Name,
    [property: Id(1)] string? Color);
