using System.Security.Cryptography;
using Collab.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// Tokens mode with an OpenID Connect provider (<c>Tokens:Authority</c>): keys come from the provider's discovery
/// document and JWKS, served here by a small local provider; tokens it signs are accepted, forgeries are not.
/// </summary>
public sealed class OpenIdProviderTests
{
    [Fact]
    public async Task Tokens_signed_by_the_provider_are_accepted_and_hmac_or_foreign_keys_are_refused()
    {
        using var rsa = RSA.Create(2048);
        await using var provider = await StartProviderAsync(rsa);
        var authority = provider.Urls.First();
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:Access:Mode"] = "Tokens",
            ["Collab:Access:Tokens:Authority"] = authority,
            ["Collab:Access:Tokens:Issuer"] = authority,
            ["Collab:Access:Tokens:Audience"] = "collab-oidc",
        });

        var signed = Token(authority, new SigningCredentials(new RsaSecurityKey(rsa) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256));
        await using (var client = await HelloAsync(server, signed))
        {
            client.Welcomed(await client.ExpectAsync("welcome"));
            Assert.Equal("edit", (await client.JoinAsync("oidc-doc")).GetProperty("access").GetString());
        }

        using var stranger = RSA.Create(2048);
        var forged = new[]
        {
            // Another RSA key claiming the provider's key id.
            Token(authority, new SigningCredentials(new RsaSecurityKey(stranger) { KeyId = "k1" }, SecurityAlgorithms.RsaSha256)),
            // HS256 with the provider's public modulus as the secret: the classic algorithm confusion.
            Token(authority, new SigningCredentials(new SymmetricSecurityKey(rsa.ExportParameters(false).Modulus!), SecurityAlgorithms.HmacSha256)),
        };
        foreach (var token in forged)
        {
            await using var client = await HelloAsync(server, token);
            Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        }
    }

    private static string Token(string issuer, SigningCredentials credentials) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = issuer,
        Audience = "collab-oidc",
        Expires = DateTime.UtcNow.AddMinutes(5),
        Claims = new Dictionary<string, object> { ["sub"] = "oidc-user", ["docs"] = new[] { "write:oidc-*" } },
        SigningCredentials = credentials,
    });

    private static async Task<TestClient> HelloAsync(CollabServer server, string token)
    {
        var clientId = "c" + Guid.NewGuid().ToString("N")[..10];
        var client = await TestClient.OpenAsync(server.WebSocketUri, clientId);
        await client.SendAsync(new { type = "hello", clientId, token });
        return client;
    }

    /// <summary>A provider's two documents: discovery (issuer, jwks_uri) and the JWKS with the public key.</summary>
    private static async Task<WebApplication> StartProviderAsync(RSA rsa)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        string Base(HttpContext c) => $"{c.Request.Scheme}://{c.Request.Host}";
        app.MapGet("/.well-known/openid-configuration", (HttpContext c) => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = Base(c),
            ["jwks_uri"] = Base(c) + "/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
        }));
        var key = rsa.ExportParameters(false);
        app.MapGet("/jwks", () => Results.Json(new Dictionary<string, object>
        {
            ["keys"] = new[]
            {
                new Dictionary<string, string>
                {
                    ["kty"] = "RSA", ["kid"] = "k1", ["use"] = "sig", ["alg"] = "RS256",
                    ["n"] = Base64UrlEncoder.Encode(key.Modulus!), ["e"] = Base64UrlEncoder.Encode(key.Exponent!),
                },
            },
        }));
        await app.StartAsync();
        return app;
    }
}
