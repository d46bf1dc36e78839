using Collab.Ot;

namespace Collab.Contracts;

/// <summary>An op as committed: the revision it produced, the client and seq that sent it, and the op transformed to apply at <c>Rev - 1</c>.</summary>
[GenerateSerializer, Immutable, Alias("collab.CommittedOp")]
public sealed record CommittedOp(
    [property: Id(0)] long Rev,
    [property: Id(1)] string ClientId,
    [property: Id(2)] long Seq,
    [property: Id(3)] TextOperation Op);
