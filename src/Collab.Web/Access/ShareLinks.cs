using System.Security.Cryptography;
using System.Text;
using Collab.Contracts;

namespace Collab.Web.Access;

/// <summary>
/// Share-link credentials: <c>{kind}{generation}.{signature}</c>, e.g. <c>e1.Yk3…</c>, where the kind is <c>o</c>
/// (owner), <c>e</c> (edit) or <c>v</c> (view) and the signature is HMAC-SHA256 over the document id, kind and
/// generation with the deployment's signing key. A credential is bound to its document; it is valid while its
/// generation is the document's current one for its kind. Pure: no I/O, no clock.
/// </summary>
public sealed class ShareLinks
{
    /// <summary>Longer than any credential this class mints; anything longer is refused unread.</summary>
    public const int MaxLength = 96;

    private readonly byte[] key;

    public ShareLinks(byte[] key)
    {
        if (key.Length < 32) throw new ArgumentException("A signing key needs at least 32 bytes.", nameof(key));
        this.key = key;
    }

    public string Mint(string documentId, LinkKind kind, long generation)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(generation);
        var prefix = $"{Letter(kind)}{generation}";
        return prefix + "." + Base64Url(Sign(documentId, prefix));
    }

    /// <summary>Checks the signature for <paramref name="documentId"/>; on success returns the link's kind and generation.</summary>
    public bool TryVerify(string credential, string documentId, out LinkKind kind, out long generation)
    {
        kind = default;
        generation = 0;
        if (credential.Length is < 4 or > MaxLength) return false;
        var dot = credential.IndexOf('.');
        if (dot < 2) return false;
        var prefix = credential[..dot];
        LinkKind? parsed = prefix[0] switch { 'o' => LinkKind.Owner, 'e' => LinkKind.Edit, 'v' => LinkKind.View, _ => null };
        if (parsed is null || !long.TryParse(prefix.AsSpan(1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var gen) || gen < 1)
            return false;
        // Canonical form only ("e01" is not "e1"): one credential string per link.
        if (prefix.Length - 1 != gen.ToString(System.Globalization.CultureInfo.InvariantCulture).Length) return false;
        // Compared as text in constant time: exactly the encoding Mint produces, nothing equivalent to it.
        var expected = Encoding.ASCII.GetBytes(Base64Url(Sign(documentId, prefix)));
        var presented = Encoding.UTF8.GetBytes(credential, dot + 1, credential.Length - dot - 1);
        if (!CryptographicOperations.FixedTimeEquals(presented, expected)) return false;
        kind = parsed.Value;
        generation = gen;
        return true;
    }

    public static Permission PermissionOf(LinkKind kind) => kind switch
    {
        LinkKind.Owner => Permission.Owner,
        LinkKind.Edit => Permission.Write,
        _ => Permission.Read,
    };

    private byte[] Sign(string documentId, string prefix) =>
        HMACSHA256.HashData(key, Encoding.UTF8.GetBytes($"collab-link-v1\n{documentId}\n{prefix}"));

    private static char Letter(LinkKind kind) => kind switch
    {
        LinkKind.Owner => 'o',
        LinkKind.Edit => 'e',
        LinkKind.View => 'v',
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
