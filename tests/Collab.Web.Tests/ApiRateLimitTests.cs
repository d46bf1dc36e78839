using System.Net;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>The HTTP API is rate limited per client address: a burst beyond the limit gets 429 with Retry-After.</summary>
public sealed class ApiRateLimitTests
{
    [Fact]
    public async Task A_burst_beyond_the_limit_gets_429_with_retry_after_and_the_pages_are_not_limited()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:ApiRequestsPerSecond"] = "5",
            ["Collab:FrontEnd:ApiBurst"] = "10",
        });
        using var http = server.Http();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 30; i++)
        {
            using var response = await http.GetAsync($"/api/docs/limited-{i}");
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.Equal("1", response.Headers.GetValues("Retry-After").Single());
                Assert.Contains("rate_limited", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            }
        }
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.InRange(statuses.Count(s => s == HttpStatusCode.OK), 10, 25);

        // The editor's pages and the probes are not counted against the API.
        for (var i = 0; i < 20; i++)
        {
            using var page = await http.GetAsync("/d/some-doc");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        await Task.Delay(1100); // one replenishment period
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/docs/limited-again")).StatusCode);
    }
}
