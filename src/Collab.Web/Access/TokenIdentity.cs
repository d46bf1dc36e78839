namespace Collab.Web.Access;

/// <summary>
/// What a verified token says: who (never taken from the client's <c>hello</c>), until when, and which documents.
/// Each document grant is <c>read:</c>, <c>write:</c> or <c>owner:</c> followed by an exact id or a prefix ending in
/// <c>*</c> (<c>write:team-*</c>, or <c>read:*</c> for every document).
/// </summary>
public sealed record TokenIdentity(
    string Subject,
    string? Name,
    string? Color,
    string? TokenId,
    DateTimeOffset IssuedAt,
    DateTimeOffset ExpiresAt,
    IReadOnlyList<DocumentGrant> Documents)
{
    /// <summary>The best permission any grant gives to <paramref name="documentId"/>.</summary>
    public Permission PermissionFor(string documentId)
    {
        var best = Permission.None;
        foreach (var grant in Documents)
            if (grant.Permission > best && grant.Matches(documentId)) best = grant.Permission;
        return best;
    }
}

/// <summary>One entry of a token's documents claim.</summary>
public sealed record DocumentGrant(Permission Permission, string Pattern)
{
    public bool Matches(string documentId) => Pattern.EndsWith('*')
        ? documentId.StartsWith(Pattern.AsSpan(0, Pattern.Length - 1), StringComparison.Ordinal)
        : string.Equals(documentId, Pattern, StringComparison.Ordinal);

    /// <summary>Parses <c>write:notes</c>; null for anything else (an unknown permission grants nothing).</summary>
    public static DocumentGrant? Parse(string entry)
    {
        var colon = entry.IndexOf(':');
        if (colon < 0) return null;
        Permission? permission = entry[..colon] switch { "read" => Permission.Read, "write" => Permission.Write, "owner" => Permission.Owner, _ => null };
        var pattern = entry[(colon + 1)..];
        if (permission is null || pattern.Length is 0 or > 129) return null;
        // A star only at the end: anything else would be a pattern language nobody documented.
        if (pattern.IndexOf('*') is var star && star >= 0 && star != pattern.Length - 1) return null;
        var id = pattern.TrimEnd('*');
        if (id.Length > 0 && !Protocol.Identifiers.IsValidDocumentId(id)) return null;
        return new DocumentGrant(permission.Value, pattern);
    }
}
