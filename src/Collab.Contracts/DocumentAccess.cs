namespace Collab.Contracts;

/// <summary>
/// The current generation of each kind of share link of a document created with access control. A link names the
/// generation it was minted at; rotating a kind bumps its generation, which revokes every older link of that kind.
/// </summary>
[GenerateSerializer, Immutable, Alias("collab.DocumentAccess")]
public sealed record DocumentAccess(
    [property: Id(0)] long OwnerGeneration,
    [property: Id(1)] long EditGeneration,
    [property: Id(2)] long ViewGeneration)
{
    public long Generation(LinkKind kind) => kind switch
    {
        LinkKind.Owner => OwnerGeneration,
        LinkKind.Edit => EditGeneration,
        LinkKind.View => ViewGeneration,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>The same access with <paramref name="kind"/>'s generation bumped.</summary>
    public DocumentAccess Rotated(LinkKind kind) => kind switch
    {
        LinkKind.Owner => this with { OwnerGeneration = OwnerGeneration + 1 },
        LinkKind.Edit => this with { EditGeneration = EditGeneration + 1 },
        LinkKind.View => this with { ViewGeneration = ViewGeneration + 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

/// <summary>The kinds of share link: an owner may share and rotate, an editor may edit, a viewer may only read.</summary>
[GenerateSerializer]
public enum LinkKind
{
    Owner,
    Edit,
    View,
}
