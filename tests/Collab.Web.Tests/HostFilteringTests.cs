using System.Net;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>AllowedHosts, as the deployment sets it: a request for any other host is refused before the app sees it.</summary>
public sealed class HostFilteringTests
{
    [Fact]
    public async Task With_AllowedHosts_set_only_those_hosts_are_served()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["AllowedHosts"] = "collab.example.test;other.example.test" });
        using var http = server.Http();
        using var foreign = await http.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.BadRequest, foreign.StatusCode);

        using var own = new HttpRequestMessage(HttpMethod.Get, "/healthz");
        own.Headers.Host = "collab.example.test";
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(own)).StatusCode);
    }
}
