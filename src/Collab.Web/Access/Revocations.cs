using Collab.Contracts;

namespace Collab.Web.Access;

/// <summary>
/// This front end's copy of the cluster's token revocations (kept current by <see cref="RevocationWatcher"/>): a token
/// revoked by id, or every token of a user issued up to the moment the user was revoked.
/// </summary>
public sealed class Revocations
{
    private volatile Dictionary<(RevocationKind, string), Revocation> entries = [];

    /// <summary>The version of the list this copy holds (the grain's; 0 before the first fetch).</summary>
    public long Version { get; private set; }

    public bool IsRevoked(TokenIdentity identity)
    {
        var current = entries;
        if (identity.TokenId is { } jti && current.ContainsKey((RevocationKind.Token, jti))) return true;
        return current.TryGetValue((RevocationKind.User, identity.Subject), out var user) && identity.IssuedAt <= user.RevokedAt;
    }

    public void Replace(RevocationList list)
    {
        entries = list.Entries.ToDictionary(e => (e.Kind, e.Value));
        Version = list.Version;
    }
}
