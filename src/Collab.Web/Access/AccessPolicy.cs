using Collab.Contracts;

namespace Collab.Web.Access;

/// <summary>What a session may do with one document, and through which credential (to revoke it when that one is rotated).</summary>
/// <remarks><see cref="Controlled"/> is false only in Open mode, where nobody's access is checked (or reported).</remarks>
public readonly record struct Grant(Permission Permission, LinkKind? Via, long Generation, bool Controlled = true)
{
    public static readonly Grant None = new(Permission.None, null, 0);

    /// <summary>Open mode: anyone reads and writes; nothing to revoke.</summary>
    public static readonly Grant Open = new(Permission.Write, null, 0, Controlled: false);
}

/// <summary>Why no credential granted access, for the error the client gets.</summary>
public enum Denial
{
    /// <summary>No credential for this document (or none that verifies).</summary>
    NoCredential,

    /// <summary>A genuine link of this document, but of a generation its owner rotated away.</summary>
    Revoked,

    /// <summary>The document was never created with access control (or does not exist).</summary>
    NoSuchDocument,
}

/// <summary>
/// Decides access from the mode, the credentials a session or request presents, and the document's current link
/// generations. Pure: the caller fetches the generations from the document grain.
/// </summary>
public sealed class AccessPolicy
{
    private readonly ShareLinks? links;
    private readonly TokenVerifier? tokens;

    public AccessPolicy(AccessOptions options)
    {
        Mode = options.Mode;
        MaxCredentials = options.MaxCredentialsPerSession;
        if (options.SigningKey is not null) links = new ShareLinks(options.Key());
        if (options.Mode == AccessMode.Tokens) tokens = new TokenVerifier(options.Tokens);
    }

    /// <summary>Verifies JWTs (Tokens mode only).</summary>
    public TokenVerifier Tokens => tokens ?? throw new InvalidOperationException("Tokens mode is off.");

    /// <summary>Tokens mode: what a verified (and not revoked) identity may do with the document.</summary>
    public static (Grant Grant, Denial? Denial) Decide(string documentId, TokenIdentity? identity)
    {
        if (identity is null) return (Grant.None, Denial.NoCredential);
        var permission = identity.PermissionFor(documentId);
        return permission == Permission.None ? (Grant.None, Denial.NoCredential) : (new Grant(permission, null, 0), null);
    }

    public AccessMode Mode { get; }

    /// <summary>How many credentials a session keeps.</summary>
    public int MaxCredentials { get; }

    /// <summary>Mints links (Links mode only).</summary>
    public ShareLinks Links => links ?? throw new InvalidOperationException("Share links need Collab:Access:SigningKey.");

    /// <summary>The best access any of <paramref name="credentials"/> gives to the document, and why none did when none did.</summary>
    public (Grant Grant, Denial? Denial) Decide(string documentId, IEnumerable<string> credentials, DocumentAccess? access)
    {
        if (Mode == AccessMode.Open) return (Grant.Open, null);
        if (access is null) return (Grant.None, Denial.NoSuchDocument);
        var best = Grant.None;
        var revoked = false;
        foreach (var credential in credentials)
        {
            if (!Links.TryVerify(credential, documentId, out var kind, out var generation)) continue;
            if (generation != access.Generation(kind))
            {
                revoked |= generation < access.Generation(kind);
                continue;
            }
            var permission = ShareLinks.PermissionOf(kind);
            if (permission > best.Permission) best = new Grant(permission, kind, generation);
        }
        if (best.Permission != Permission.None) return (best, null);
        return (best, revoked ? Denial.Revoked : Denial.NoCredential);
    }

    /// <summary>
    /// Whether any credential is a genuine link of this document (of any generation). Checked before the document's
    /// grain is asked for its generations, so joins and reads with no link of it never activate a document.
    /// </summary>
    public bool HasLinkFor(string documentId, IEnumerable<string> credentials) =>
        credentials.Any(credential => Links.TryVerify(credential, documentId, out _, out _));

    /// <summary>Whether a grant made earlier survives the document's current generations.</summary>
    public static bool StillValid(Grant grant, DocumentAccess? access) =>
        grant.Via is not { } kind || (access is not null && grant.Generation == access.Generation(kind));
}
