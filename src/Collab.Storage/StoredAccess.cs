namespace Collab.Storage;

/// <summary>
/// A document's access record: the current generation of each kind of share link (a link of an older generation is
/// revoked) and when the document was created with access control. A document without one was never created that way.
/// </summary>
public sealed record StoredAccess(long OwnerGeneration, long EditGeneration, long ViewGeneration, DateTimeOffset CreatedAt);
