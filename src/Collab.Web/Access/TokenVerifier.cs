using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Collab.Web.Access;

/// <summary>Why a token was refused.</summary>
public enum TokenFailure
{
    Invalid,
    Expired,
}

/// <summary>
/// Verifies JWTs with Microsoft.IdentityModel (signature, issuer, audience, lifetime; algorithms pinned to the key kind)
/// and reads the identity and document grants from their claims.
/// </summary>
public sealed class TokenVerifier
{
    /// <summary>Tokens longer than this are refused unread.</summary>
    public const int MaxLength = 8192;

    private readonly JsonWebTokenHandler handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters parameters;
    private readonly string documentsClaim;

    public TokenVerifier(TokenOptions options)
    {
        documentsClaim = options.DocumentsClaim;
        parameters = new TokenValidationParameters
        {
            ValidIssuer = options.Issuer,
            ValidAudience = options.Audience,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            RequireSignedTokens = true,
            ClockSkew = TimeSpan.FromSeconds(options.ClockSkewSeconds),
        };
        if (options.HmacKey is not null)
        {
            parameters.IssuerSigningKey = new SymmetricSecurityKey(options.Key());
            parameters.ValidAlgorithms = [SecurityAlgorithms.HmacSha256, SecurityAlgorithms.HmacSha384, SecurityAlgorithms.HmacSha512];
        }
        else
        {
            var authority = options.Authority!.TrimEnd('/');
            var retriever = new HttpDocumentRetriever { RequireHttps = new Uri(authority).Scheme == Uri.UriSchemeHttps };
            parameters.ConfigurationManager = new ConfigurationManager<OpenIdConnectConfiguration>(
                authority + "/.well-known/openid-configuration", new OpenIdConnectConfigurationRetriever(), retriever);
            // Asymmetric only: a provider's public key must never be usable as an HMAC secret.
            parameters.ValidAlgorithms =
            [
                SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSha384, SecurityAlgorithms.RsaSha512,
                SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.RsaSsaPssSha384, SecurityAlgorithms.RsaSsaPssSha512,
                SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.EcdsaSha384, SecurityAlgorithms.EcdsaSha512,
            ];
        }
    }

    public async Task<(TokenIdentity? Identity, TokenFailure? Failure, string? Reason)> VerifyAsync(string token)
    {
        if (token.Length is 0 or > MaxLength) return (null, TokenFailure.Invalid, "the token is empty or too long");
        TokenValidationResult result;
        try
        {
            result = await handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ArgumentException or SecurityTokenException)
        {
            return (null, TokenFailure.Invalid, "the token is not a JWT");
        }
        if (!result.IsValid)
        {
            // Reasons stay coarse: the client learns what to do, not how the check works.
            return result.Exception is SecurityTokenExpiredException
                ? (null, TokenFailure.Expired, "the token has expired")
                : (null, TokenFailure.Invalid, result.Exception switch
                {
                    SecurityTokenInvalidAudienceException => "the token is for another audience",
                    SecurityTokenInvalidIssuerException => "the token is from an issuer this server does not trust",
                    SecurityTokenNotYetValidException => "the token is not valid yet",
                    _ => "the token's signature or claims are invalid",
                });
        }
        var jwt = (JsonWebToken)result.SecurityToken;
        if (!jwt.TryGetPayloadValue<string>("sub", out var subject) || string.IsNullOrWhiteSpace(subject) || subject.Length > 256)
            return (null, TokenFailure.Invalid, "the token has no usable 'sub' claim");
        var grants = new List<DocumentGrant>();
        foreach (var entry in Strings(jwt, documentsClaim))
            if (DocumentGrant.Parse(entry) is { } grant) grants.Add(grant);
        return (new TokenIdentity(
            subject,
            Label(jwt, "name", 64),
            Label(jwt, "color", 7) is { } color && System.Text.RegularExpressions.Regex.IsMatch(color, "^#[0-9a-fA-F]{6}$") ? color : null,
            jwt.TryGetPayloadValue<string>("jti", out var jti) && jti.Length is > 0 and <= 256 ? jti : null,
            jwt.IssuedAt == DateTime.MinValue ? DateTimeOffset.MinValue : new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero),
            new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero) + parameters.ClockSkew,
            grants), null, null);
    }

    private static string? Label(JsonWebToken jwt, string claim, int maxLength) =>
        jwt.TryGetPayloadValue<string>(claim, out var value) && value.Length <= maxLength && !value.Any(char.IsControl) ? value : null;

    /// <summary>A claim holding one string or an array of strings.</summary>
    private static IEnumerable<string> Strings(JsonWebToken jwt, string claim)
    {
        if (!jwt.TryGetPayloadValue<JsonElement>(claim, out var value)) yield break;
        if (value.ValueKind == JsonValueKind.String)
        {
            yield return value.GetString()!;
            yield break;
        }
        if (value.ValueKind != JsonValueKind.Array) yield break;
        foreach (var item in value.EnumerateArray().Take(256))
            if (item.ValueKind == JsonValueKind.String) yield return item.GetString()!;
    }
}
