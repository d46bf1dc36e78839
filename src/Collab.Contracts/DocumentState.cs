namespace Collab.Contracts;

/// <summary>A document's committed text at a revision.</summary>
[GenerateSerializer, Immutable, Alias("collab.DocumentState")]
public sealed record DocumentState(
    [property: Id(0)] long Rev,
    [property: Id(1)] string Text);
