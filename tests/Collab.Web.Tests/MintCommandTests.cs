using Collab.Contracts;
using Collab.Testing;
using Collab.Web.Access;
using Collab.Web.Hosting;
using Xunit;

namespace Collab.Web.Tests;

/// <summary><c>Collab.Web mint …</c>: what it prints is accepted by a server configured with the same keys.</summary>
public sealed class MintCommandTests(TokensServer fixture) : IClassFixture<TokensServer>
{
    private static readonly string[] TokenSettings =
    [
        "--Collab:Access:Tokens:Issuer", TestTokens.Issuer,
        "--Collab:Access:Tokens:Audience", TestTokens.Audience,
        "--Collab:Access:Tokens:HmacKey", Convert.ToBase64String(TestTokens.Key),
    ];

    [Fact]
    public async Task A_minted_token_signs_in_with_its_name_and_grants_exactly_its_documents()
    {
        var (code, token, _) = Mint(["token", "--sub", "script", "--docs", "write:minted-*", "--name", "Nightly job", "--ttl", "5m", .. TokenSettings]);
        Assert.Equal(0, code);

        var clientId = "mint-" + Guid.NewGuid().ToString("N")[..6];
        await using var client = await TestClient.OpenAsync(fixture.Server.WebSocketUri, clientId);
        await client.SendAsync(new { type = "hello", clientId, token });
        client.Welcomed(await client.ExpectAsync("welcome"));
        Assert.Equal("edit", (await client.JoinAsync("minted-report")).GetProperty("access").GetString());
        await client.SendAsync(new { type = "join", doc = "other" });
        Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());

        var (identity, _, _) = await new TokenVerifier(new TokenOptions
        {
            Issuer = TestTokens.Issuer, Audience = TestTokens.Audience, HmacKey = Convert.ToBase64String(TestTokens.Key),
        }).VerifyAsync(token);
        Assert.Equal(("script", "Nightly job"), (identity!.Subject, identity.Name));
        Assert.InRange(identity.ExpiresAt - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(6));
        Assert.NotNull(identity.TokenId);
    }

    [Fact]
    public void A_minted_link_verifies_for_its_document_kind_and_generation()
    {
        var key = Convert.ToBase64String(new byte[40]);
        var (code, link, _) = Mint(["link", "--doc", "notes", "--kind", "view", "--generation", "3", "--Collab:Access:SigningKey", key]);
        Assert.Equal(0, code);
        Assert.True(new ShareLinks(new byte[40]).TryVerify(link, "notes", out var kind, out var generation));
        Assert.Equal((LinkKind.View, 3L), (kind, generation));
    }

    [Theory]
    [InlineData("token --sub ada --docs write:x", "HmacKey")]
    [InlineData("token --docs write:x --Collab:Access:Tokens:HmacKey AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --Collab:Access:Tokens:Issuer i --Collab:Access:Tokens:Audience a", "--sub is required")]
    [InlineData("token --sub ada --docs edit:x --Collab:Access:Tokens:HmacKey AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --Collab:Access:Tokens:Issuer i --Collab:Access:Tokens:Audience a", "'edit:x'")]
    [InlineData("link --doc notes --kind admin --Collab:Access:SigningKey AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "--kind is owner, edit or view")]
    [InlineData("link --doc notes --kind edit", "SigningKey")]
    [InlineData("dance", "usage")]
    public void Bad_arguments_exit_2_and_say_what_is_wrong(string args, string says)
    {
        var (code, output, error) = Mint(args.Split(' '));
        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains(says, error, StringComparison.Ordinal);
    }

    private static (int Code, string Output, string Error) Mint(string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = MintCommand.Run(args, stdout, stderr);
        return (code, stdout.ToString().Trim(), stderr.ToString());
    }
}
