using Xunit;

namespace Collab.Web.Tests;

/// <summary>What every response tells the browser: no sniffing, no referrer, no framing; pages get a strict CSP.</summary>
public sealed class SecurityHeadersTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    [Theory]
    [InlineData("/")]
    [InlineData("/d/some-doc")]
    public async Task Pages_carry_a_content_security_policy_that_allows_only_their_own_origin(string path)
    {
        using var http = fixture.Server.Http();
        using var response = await http.GetAsync(path);
        response.EnsureSuccessStatusCode();
        var csp = string.Join(";", response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-eval", csp, StringComparison.Ordinal);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("no-referrer", Assert.Single(response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", Assert.Single(response.Headers.GetValues("X-Frame-Options")));
        Assert.False(response.Headers.Contains("Strict-Transport-Security")); // plain http: HSTS would be ignored anyway
    }

    [Fact]
    public async Task Api_answers_are_not_sniffed_and_https_behind_a_proxy_gets_hsts()
    {
        using var http = fixture.Server.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/docs/headers-doc");
        request.Headers.Add("X-Forwarded-Proto", "https");
        using var response = await http.SendAsync(request);
        Assert.Equal("nosniff", Assert.Single(response.Headers.GetValues("X-Content-Type-Options")));
        Assert.False(response.Headers.Contains("Content-Security-Policy"));
        Assert.StartsWith("max-age=", Assert.Single(response.Headers.GetValues("Strict-Transport-Security")), StringComparison.Ordinal);
    }
}
