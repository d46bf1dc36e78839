using Collab.Contracts;
using Collab.Grains.Core;
using Xunit;

namespace Collab.Grains.Tests.Core;

/// <summary>Who holds a client key: never two live sessions of different pages at once.</summary>
public sealed class ClientHoldersTests
{
    private static ClientClaim Claim(string key, string session, string host = "h1", string? instance = null) => new(key, session, host, instance);

    [Fact]
    public void A_second_session_of_another_page_is_refused_until_the_first_leaves()
    {
        var holders = new ClientHolders();
        Assert.True(holders.Claim(Claim("tab", "s1", instance: "page-a")));
        Assert.False(holders.Claim(Claim("tab", "s2", instance: "page-b")));
        Assert.False(holders.Claim(Claim("tab", "s3", instance: null)));
        Assert.True(holders.Claim(Claim("other-tab", "s2", instance: "page-b")));

        holders.Release("s1");
        Assert.True(holders.Claim(Claim("tab", "s3", instance: null)));
        Assert.False(holders.Claim(Claim("tab", "s1", instance: "page-a")));
    }

    [Fact]
    public void The_same_page_reconnecting_takes_over_its_stale_session_and_the_same_session_may_claim_again()
    {
        var holders = new ClientHolders();
        Assert.True(holders.Claim(Claim("tab", "s1", instance: "page-a")));
        Assert.True(holders.Claim(Claim("tab", "s1", instance: "page-a")));
        Assert.True(holders.Claim(Claim("tab", "s2", host: "h2", instance: "page-a")));
        // The stale session's late leave does not release the new holder.
        holders.Release("s1");
        Assert.False(holders.Claim(Claim("tab", "s3", instance: "page-b")));
        Assert.Equal(1, holders.Count);
    }

    [Fact]
    public void A_host_that_leaves_or_lapses_releases_every_key_its_sessions_held()
    {
        var holders = new ClientHolders();
        holders.Claim(Claim("a", "s1", host: "h1"));
        holders.Claim(Claim("b", "s2", host: "h1"));
        holders.Claim(Claim("c", "s3", host: "h2"));

        holders.ReleaseHost("h1");
        Assert.True(holders.Claim(Claim("a", "s9", host: "h3")));
        holders.Retain(host => host == "h3");
        Assert.True(holders.Claim(Claim("c", "s8", host: "h3")));
        Assert.Equal(2, holders.Count);
    }
}
