using Collab.Ot;

namespace Collab.Contracts;

/// <summary>A client's op, based on revision <see cref="BaseRev"/>, identified by (<see cref="ClientId"/>, <see cref="Seq"/>) for exactly-once.</summary>
[GenerateSerializer, Immutable, Alias("collab.SubmitRequest")]
public sealed record SubmitRequest(
    [property: Id(0)] string ClientId,
    [property: Id(1)] long Seq,
    [property: Id(2)] long BaseRev,
    [property: Id(3)] TextOperation Op);
