namespace Collab.Web.Access;

/// <summary>Who may read and write documents, bound from <c>Collab:Access</c>.</summary>
public sealed class AccessOptions
{
    public const string Section = "Collab:Access";

    /// <summary>
    /// <c>Open</c> (anyone may read and edit anything: the embedded default), <c>Links</c> (signed share links) or
    /// <c>Tokens</c> (JWTs from your own sign-in or an OpenID Connect provider; see <see cref="Tokens"/>).
    /// </summary>
    public AccessMode Mode { get; set; } = AccessMode.Open;

    /// <summary>
    /// Base64 of at least 32 random bytes, the same on every front end: signs share links. Required in Links mode.
    /// Changing it revokes every link ever issued.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>Links mode: who may create documents (<c>Anyone</c>, or <c>Operators</c> holding Collab:Operations:OperatorKey).</summary>
    public DocumentCreation CreateDocuments { get; set; } = DocumentCreation.Anyone;

    /// <summary>
    /// Links and Tokens mode: how many documents one owner may create with <c>POST /api/docs</c> — the client address
    /// in Links mode, the token's <c>sub</c> in Tokens mode; the operator key is not limited. 0 turns the cap off.
    /// </summary>
    public int MaxDocumentsPerOwner { get; set; } = 1000;

    /// <summary>How many credentials one session may hold at once (one per document in Links mode).</summary>
    public int MaxCredentialsPerSession { get; set; } = 32;

    /// <summary>Tokens mode's issuer, audience and keys.</summary>
    public TokenOptions Tokens { get; set; } = new();

    /// <summary>The decoded signing key (validated).</summary>
    public byte[] Key() => Convert.FromBase64String(SigningKey!);

    /// <summary>The first invalid setting as a message naming its key, or null.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Mode)) return $"{Section}:Mode must be Open, Links or Tokens (was '{Mode}').";
        if (Mode == AccessMode.Tokens && Tokens.Validate() is { } tokens) return tokens;
        if (!Enum.IsDefined(CreateDocuments)) return $"{Section}:CreateDocuments must be Anyone or Operators (was '{CreateDocuments}').";
        if (MaxDocumentsPerOwner is < 0 or > 10_000_000) return $"{Section}:MaxDocumentsPerOwner must be between 0 (no cap) and 10000000 (was {MaxDocumentsPerOwner}).";
        if (MaxCredentialsPerSession is < 1 or > 1024) return $"{Section}:MaxCredentialsPerSession must be between 1 and 1024.";
        if (SigningKey is null)
            return Mode == AccessMode.Links ? $"{Section}:SigningKey is required in Links mode (base64 of at least 32 random bytes, e.g. `openssl rand -base64 48`)." : null;
        byte[] key;
        try
        {
            key = Convert.FromBase64String(SigningKey);
        }
        catch (FormatException)
        {
            return $"{Section}:SigningKey must be base64 (e.g. `openssl rand -base64 48`).";
        }
        return key.Length < 32 ? $"{Section}:SigningKey must decode to at least 32 bytes (it has {key.Length})." : null;
    }
}

/// <summary>How documents are protected.</summary>
public enum AccessMode
{
    Open,
    Links,
    Tokens,
}

/// <summary>Who may create documents in Links mode.</summary>
public enum DocumentCreation
{
    Anyone,
    Operators,
}
