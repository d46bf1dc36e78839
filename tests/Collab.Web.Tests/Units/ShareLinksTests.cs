using Collab.Contracts;
using Collab.Web.Access;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>Share-link credentials and the access decision, without a server.</summary>
public sealed class ShareLinksTests
{
    private static readonly byte[] Key = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();
    private static readonly ShareLinks Links = new(Key);

    private static AccessPolicy Policy() => new(new AccessOptions { Mode = AccessMode.Links, SigningKey = Convert.ToBase64String(Key) });

    [Theory]
    [InlineData(LinkKind.Owner, 'o')]
    [InlineData(LinkKind.Edit, 'e')]
    [InlineData(LinkKind.View, 'v')]
    public void A_minted_link_verifies_for_its_document_with_its_kind_and_generation(LinkKind kind, char letter)
    {
        var link = Links.Mint("notes", kind, 7);

        Assert.StartsWith($"{letter}7.", link, StringComparison.Ordinal);
        Assert.True(link.Length <= ShareLinks.MaxLength);
        Assert.True(Links.TryVerify(link, "notes", out var verifiedKind, out var generation));
        Assert.Equal((kind, 7L), (verifiedKind, generation));
    }

    [Fact]
    public void A_link_is_refused_for_another_document_with_another_key_or_altered_in_any_way()
    {
        var link = Links.Mint("notes", LinkKind.Edit, 1);
        var otherKey = new ShareLinks(Enumerable.Range(2, 32).Select(i => (byte)i).ToArray());

        Assert.False(Links.TryVerify(link, "notes2", out _, out _));
        Assert.False(otherKey.TryVerify(link, "notes", out _, out _));
        // Promoting a view link to an edit or owner link, or moving it to a newer generation, breaks the signature.
        var view = Links.Mint("notes", LinkKind.View, 1);
        Assert.False(Links.TryVerify("e" + view[1..], "notes", out _, out _));
        Assert.False(Links.TryVerify("o" + view[1..], "notes", out _, out _));
        Assert.False(Links.TryVerify("v2" + view[2..], "notes", out _, out _));
        // Every single-character change, and non-canonical spellings of the generation, are refused.
        for (var i = 0; i < link.Length; i++)
        {
            var altered = link[..i] + (link[i] == 'A' ? 'B' : 'A') + link[(i + 1)..];
            Assert.False(Links.TryVerify(altered, "notes", out _, out _), altered);
        }
        Assert.False(Links.TryVerify("e01" + link[2..], "notes", out _, out _));
        Assert.False(Links.TryVerify(link + "=", "notes", out _, out _));
        Assert.False(Links.TryVerify(link[..^1], "notes", out _, out _));
        Assert.False(Links.TryVerify("", "notes", out _, out _));
        Assert.False(Links.TryVerify(new string('e', 10_000), "notes", out _, out _));
        Assert.False(Links.TryVerify("e0." + link[3..], "notes", out _, out _));
    }

    [Fact]
    public void The_best_current_credential_wins_and_an_old_generation_is_reported_as_revoked()
    {
        var policy = Policy();
        var access = new DocumentAccess(1, 2, 1);
        var oldEdit = Links.Mint("doc", LinkKind.Edit, 1);
        var view = Links.Mint("doc", LinkKind.View, 1);
        var edit = Links.Mint("doc", LinkKind.Edit, 2);
        var owner = Links.Mint("doc", LinkKind.Owner, 1);

        Assert.Equal((new Grant(Permission.Read, LinkKind.View, 1), (Denial?)null), policy.Decide("doc", [oldEdit, view], access));
        Assert.Equal(new Grant(Permission.Write, LinkKind.Edit, 2), policy.Decide("doc", [view, edit], access).Grant);
        Assert.Equal(new Grant(Permission.Owner, LinkKind.Owner, 1), policy.Decide("doc", [edit, owner, view], access).Grant);
        Assert.Equal((Grant.None, Denial.Revoked), policy.Decide("doc", [oldEdit], access));
        Assert.Equal((Grant.None, Denial.NoCredential), policy.Decide("doc", ["junk", Links.Mint("other", LinkKind.Owner, 1)], access));
        Assert.Equal((Grant.None, Denial.NoSuchDocument), policy.Decide("doc", [owner], null));
        // A link "from the future" (a generation the document never reached) is not a revoked one: it was never issued.
        Assert.Equal(Denial.NoCredential, policy.Decide("doc", [Links.Mint("doc", LinkKind.View, 5)], access).Denial);
    }

    [Fact]
    public void A_grant_survives_only_while_its_generation_is_current()
    {
        var grant = new Grant(Permission.Write, LinkKind.Edit, 2);

        Assert.True(AccessPolicy.StillValid(grant, new DocumentAccess(1, 2, 1)));
        Assert.True(AccessPolicy.StillValid(grant, new DocumentAccess(5, 2, 9)));
        Assert.False(AccessPolicy.StillValid(grant, new DocumentAccess(1, 3, 1)));
        Assert.False(AccessPolicy.StillValid(grant, null));
        Assert.True(AccessPolicy.StillValid(Grant.Open, null));
    }

    [Fact]
    public void Open_mode_grants_write_to_everyone_and_no_one_owns()
    {
        var open = new AccessPolicy(new AccessOptions());
        Assert.Equal((Grant.Open, (Denial?)null), open.Decide("anything", [], null));
        Assert.Equal(Permission.Write, Grant.Open.Permission);
    }

    [Theory]
    [InlineData("Links", null, "SigningKey is required")]
    [InlineData("Links", "bm90IGVub3VnaA==", "at least 32 bytes")]
    [InlineData("Links", "%%%", "must be base64")]
    [InlineData("Tokens", null, "Tokens:Issuer is required")]
    public void Invalid_access_settings_name_the_key(string mode, string? key, string message)
    {
        var options = new AccessOptions { Mode = Enum.Parse<AccessMode>(mode), SigningKey = key };
        Assert.Contains(message, options.Validate(), StringComparison.Ordinal);
        Assert.Contains("Collab:Access:", options.Validate(), StringComparison.Ordinal);
    }
}
