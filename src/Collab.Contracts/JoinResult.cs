namespace Collab.Contracts;

/// <summary>
/// The committed state at <see cref="Rev"/>: either <see cref="Text"/> (full) or <see cref="Ops"/> (every op after the
/// revision the client asked from, <see cref="Since"/>), plus the presences of the sessions editing it and its share-link
/// generations as of this join (null: no access record).
/// </summary>
[GenerateSerializer, Immutable, Alias("collab.JoinResult")]
public sealed record JoinResult(
    [property: Id(0)] long Rev,
    [property: Id(1)] string? Text,
    [property: Id(2)] long? Since,
    [property: Id(3)] CommittedOp[]? Ops,
    [property: Id(4)] PresenceState[] Presences,
    [property: Id(5)] DocumentAccess? Access = null);
