using Collab.Web.Protocol;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>The public tag that names an author in frames for other sessions, in place of its secret clientId.</summary>
public sealed class AuthorTagsTests
{
    private static readonly string[] ClientIds = ["tab-7f3a", "tab-7f3b", "a", "A", "x_-", new string('z', 64), "c0123456789ab"];

    [Fact]
    public void A_tag_is_stable_per_clientId_within_a_front_end_and_differs_between_clientIds()
    {
        var tags = new AuthorTags(Configuration(null));
        var first = ClientIds.Select(tags.For).ToList();
        Assert.Equal(first, ClientIds.Select(tags.For));
        Assert.Equal(ClientIds.Length, first.Distinct(StringComparer.Ordinal).Count());
        Assert.All(first, tag => Assert.Matches("^[A-Za-z0-9_-]{22}$", tag));
        // (Ids long enough not to occur in 22 random characters by chance.)
        Assert.All(ClientIds.Zip(first).Where(p => p.First.Length >= 8), p => Assert.DoesNotContain(p.First, p.Second, StringComparison.Ordinal));
    }

    [Fact]
    public void A_configured_key_gives_the_same_tags_in_every_front_end_and_a_random_key_does_not()
    {
        var key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var a = new AuthorTags(Configuration(key));
        var b = new AuthorTags(Configuration(key));
        Assert.Equal(ClientIds.Select(a.For), ClientIds.Select(b.For));

        var random1 = new AuthorTags(Configuration(null));
        var random2 = new AuthorTags(Configuration(""));
        Assert.NotEqual(random1.For("tab-7f3a"), random2.For("tab-7f3a"));
        Assert.NotEqual(a.For("tab-7f3a"), random1.For("tab-7f3a"));
    }

    [Fact]
    public void The_tag_is_the_truncated_base64url_HMAC_SHA256_of_the_clientId()
    {
        var key = new byte[32];
        var mac = System.Security.Cryptography.HMACSHA256.HashData(key, "tab-7f3a"u8);
        var expected = Convert.ToBase64String(mac).Replace('+', '-').Replace('/', '_')[..22];
        Assert.Equal(expected, new AuthorTags(key).For("tab-7f3a"));
    }

    [Theory]
    [InlineData("not base64!")]
    [InlineData("c2hvcnQ=")] // "short": 5 bytes
    public void A_bad_key_is_refused_with_a_message_naming_the_setting_but_not_its_value(string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new AuthorTags(Configuration(value)));
        Assert.Contains("Collab:Access:SigningKey", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, error.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(string? key) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Collab:Access:SigningKey"] = key }).Build();
}
