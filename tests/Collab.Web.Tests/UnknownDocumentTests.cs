using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Collab.Contracts;
using Collab.Testing;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>Counts the document activations of an in-process server through Orleans' management grain.</summary>
internal static class Activations
{
    public static async Task<int> DocumentsAsync(CollabServer server)
    {
        var grains = server.Services.GetRequiredService<IGrainFactory>();
        var statistics = await grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.StartsWith(typeof(Collab.Grains.DocumentGrain).FullName + ",", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }
}

/// <summary>Open mode: reading names nobody wrote answers revision 0 and leaves no document grain resident.</summary>
public sealed class UnknownDocumentTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private CollabServer Server => fixture.Server;

    [Fact]
    public async Task Reading_a_thousand_unknown_documents_answers_rev_0_and_activates_none_of_them()
    {
        var before = await Activations.DocumentsAsync(Server);
        using var http = Server.Http();
        var prefix = "unknown-" + Guid.NewGuid().ToString("N")[..8] + "-";
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancel) =>
        {
            var doc = prefix + i;
            using var read = await http.GetAsync($"/api/docs/{doc}", cancel);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            var body = await read.Content.ReadFromJsonAsync<JsonElement>(cancel);
            Assert.Equal((doc, 0L, ""), (body.GetProperty("doc").GetString(), body.GetProperty("rev").GetInt64(), body.GetProperty("text").GetString()));
            if (i % 10 == 0)
            {
                using var status = await http.GetAsync($"/api/docs/{doc}/status", cancel);
                var s = await status.Content.ReadFromJsonAsync<JsonElement>(cancel);
                Assert.Equal((0L, JsonValueKind.Null), (s.GetProperty("rev").GetInt64(), s.GetProperty("activatedAt").ValueKind));
            }
        });
        Assert.Equal(before, await Activations.DocumentsAsync(Server));
    }

    [Fact]
    public async Task A_written_document_still_reads_its_text_and_status_from_its_activation()
    {
        var doc = "written-" + Guid.NewGuid().ToString("N")[..8];
        var before = await Activations.DocumentsAsync(Server);
        await using (var client = await Server.ConnectAsync())
        {
            await client.JoinAsync(doc);
            await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "hi" } });
            await client.ExpectAsync("ack");
        }
        // The counter sees an activation when there is one: the test above would notice one per name.
        Assert.Equal(before + 1, await Activations.DocumentsAsync(Server));

        using var http = Server.Http();
        var body = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal((1L, "hi"), (body.GetProperty("rev").GetInt64(), body.GetProperty("text").GetString()));
        var status = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}/status");
        Assert.Equal(JsonValueKind.String, status.GetProperty("activatedAt").ValueKind);
    }
}

/// <summary>Links mode: reads and joins of names nobody created are refused without activating a document.</summary>
public sealed class UnknownDocumentLinksTests(LinksServer fixture) : IClassFixture<LinksServer>
{
    private CollabServer Server => fixture.Server;

    [Fact]
    public async Task Reads_and_joins_of_unknown_documents_are_refused_and_activate_nothing()
    {
        var before = await Activations.DocumentsAsync(Server);
        var prefix = "nolink-" + Guid.NewGuid().ToString("N")[..8] + "-";
        using var anonymous = Server.Http();
        using var operatorHttp = Server.Http();
        operatorHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", LinksServer.OperatorKey);
        await Parallel.ForEachAsync(Enumerable.Range(0, 300), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, cancel) =>
        {
            using var refused = await anonymous.GetAsync($"/api/docs/{prefix}{i}", cancel);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            using var forged = new HttpRequestMessage(HttpMethod.Get, $"/api/docs/{prefix}{i}/links");
            forged.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "o1." + new string('A', 43));
            using var refusedLinks = await anonymous.SendAsync(forged, cancel);
            Assert.Equal(HttpStatusCode.Unauthorized, refusedLinks.StatusCode);
            // The operator reads the empty document, as before, but nothing is activated to say so.
            var read = await operatorHttp.GetFromJsonAsync<JsonElement>($"/api/docs/{prefix}{i}", cancel);
            Assert.Equal(0L, read.GetProperty("rev").GetInt64());
        });

        await using var client = await TestClient.OpenAsync(Server.WebSocketUri, "c" + Guid.NewGuid().ToString("N")[..12]);
        await client.SendAsync(new { type = "hello", clientId = client.ClientId, token = "e1." + new string('A', 43) });
        await client.ExpectAsync("welcome");
        for (var i = 0; i < 30; i++) // under the join burst
        {
            await client.SendAsync(new { type = "join", doc = $"{prefix}ws{i}" });
            Assert.Equal("unauthorized", (await client.ExpectAsync("error")).GetProperty("code").GetString());
        }
        Assert.Equal(before, await Activations.DocumentsAsync(Server));
    }
}
