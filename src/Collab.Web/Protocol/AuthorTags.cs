using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Collab.Web.Protocol;

/// <summary>
/// Turns a clientId into the public <c>author</c> tag other sessions see: base64url of HMAC-SHA256(key, clientId),
/// 22 characters (132 bits). The clientId is the key of exactly-once resends, so it is a secret of its tab: whoever
/// holds it can submit ops in its name and make its next real op look like a duplicate. The tag identifies an author
/// without letting anyone act as one.
/// </summary>
/// <remarks>
/// The key is <c>Collab:Access:SigningKey</c> (base64, at least 32 bytes) when set, otherwise 32 random bytes per
/// process. A per-front-end key is still correct: a session's tags only need to agree within the front end that renders
/// its frames (the feed renders one broadcast per commit for all of this host's sessions, and every tag it renders
/// comes from the same key), and a client that reconnects, to this front end or another, learns its own tag anew in
/// <c>welcome</c>. Tags of one author differ between front ends; nothing compares them across front ends.
/// </remarks>
internal sealed class AuthorTags
{
    public const string KeySetting = "Collab:Access:SigningKey";
    public const int TagLength = 22;
    private const int MinKeyBytes = 32;

    private readonly byte[] key;

    public AuthorTags(IConfiguration configuration) : this(ReadKey(configuration[KeySetting]))
    {
    }

    public AuthorTags(byte[] key)
    {
        if (key.Length < MinKeyBytes) throw new ArgumentException($"the key needs at least {MinKeyBytes} bytes", nameof(key));
        this.key = key;
    }

    /// <summary>The tag of <paramref name="clientId"/>: the same for the same clientId as long as this process runs.</summary>
    public string For(string clientId)
    {
        // clientIds are 1-64 ASCII characters (hello checks them); the heap is only for what could not have been sent.
        var max = Encoding.UTF8.GetMaxByteCount(clientId.Length);
        Span<byte> id = max <= 256 ? stackalloc byte[max] : new byte[max];
        id = id[..Encoding.UTF8.GetBytes(clientId, id)];
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, id, mac);
        return Base64Url.EncodeToString(mac)[..TagLength];
    }

    private static byte[] ReadKey(string? setting)
    {
        if (string.IsNullOrWhiteSpace(setting)) return RandomNumberGenerator.GetBytes(MinKeyBytes);
        byte[] key;
        try
        {
            key = Convert.FromBase64String(setting);
        }
        catch (FormatException)
        {
            // The setting is a secret: the message names the key, never the value.
            throw Invalid("it is not valid base64");
        }
        if (key.Length < MinKeyBytes) throw Invalid($"it decodes to {key.Length}");
        return key;
    }

    /// <summary>Fails the start like a bad option (<c>ValidatedOptions</c>): the key is read here, not bound to a class.</summary>
    private static OptionsValidationException Invalid(string why) =>
        new(KeySetting, typeof(AuthorTags), [$"{KeySetting} must be base64 of at least {MinKeyBytes} bytes; {why}."]);
}
