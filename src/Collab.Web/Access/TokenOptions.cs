namespace Collab.Web.Access;

/// <summary>
/// Tokens mode, bound from <c>Collab:Access:Tokens</c>: JWTs issued by the host application (HMAC key) or by an OpenID
/// Connect provider (its published keys, found through <see cref="Authority"/>). Issuer and audience are always checked.
/// </summary>
public sealed class TokenOptions
{
    public const string Section = AccessOptions.Section + ":Tokens";

    /// <summary>The <c>iss</c> every token must carry.</summary>
    public string? Issuer { get; set; }

    /// <summary>The <c>aud</c> every token must carry (this Collab deployment).</summary>
    public string? Audience { get; set; }

    /// <summary>Base64 of at least 32 bytes: tokens signed with HS256 by your own application. Or set <see cref="Authority"/>.</summary>
    public string? HmacKey { get; set; }

    /// <summary>
    /// An OpenID Connect provider (https; http only for loopback addresses): keys come from its
    /// <c>/.well-known/openid-configuration</c> and are refreshed as it rotates them. Or set <see cref="HmacKey"/>.
    /// </summary>
    public string? Authority { get; set; }

    /// <summary>How far clocks may disagree when checking <c>exp</c> and <c>nbf</c>.</summary>
    public int ClockSkewSeconds { get; set; } = 30;

    /// <summary>The claim listing the documents a token grants, e.g. <c>["write:notes", "read:team-*"]</c>.</summary>
    public string DocumentsClaim { get; set; } = "docs";

    public byte[] Key() => Convert.FromBase64String(HmacKey!);

    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Issuer)) return $"{Section}:Issuer is required in Tokens mode.";
        if (string.IsNullOrWhiteSpace(Audience)) return $"{Section}:Audience is required in Tokens mode.";
        if ((HmacKey is null) == (Authority is null)) return $"{Section}: set exactly one of HmacKey (your own tokens) and Authority (an OpenID Connect provider).";
        if (HmacKey is not null)
        {
            try
            {
                if (Convert.FromBase64String(HmacKey).Length < 32) return $"{Section}:HmacKey must decode to at least 32 bytes.";
            }
            catch (FormatException)
            {
                return $"{Section}:HmacKey must be base64.";
            }
        }
        if (Authority is not null)
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var uri) || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
                return $"{Section}:Authority must be an https URL (http only on a loopback address, for tests).";
        }
        if (ClockSkewSeconds is < 0 or > 300) return $"{Section}:ClockSkewSeconds must be between 0 and 300.";
        if (string.IsNullOrWhiteSpace(DocumentsClaim)) return $"{Section}:DocumentsClaim must name a claim.";
        return null;
    }
}
