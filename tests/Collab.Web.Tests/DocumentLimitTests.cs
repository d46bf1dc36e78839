using System.Net.Http.Json;
using System.Text.Json;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>Limits a document enforces whatever front end its editors use: ops per second, and its length.</summary>
public sealed class DocumentLimitTests : IAsyncLifetime
{
    private CollabServer server = null!;

    public async Task InitializeAsync() => server = await CollabServer.StartAsync(new Dictionary<string, string>
    {
        ["Collab:Documents:OpsPerSecond"] = "2",
        ["Collab:Documents:OpsBurst"] = "3",
        ["Collab:Documents:MaxDocumentLength"] = "10",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Fact]
    public async Task A_document_flooded_by_several_sessions_answers_rate_limited_and_the_resend_lands()
    {
        const string doc = "flooded";
        await using var a = await server.ConnectAsync("flood-a");
        await using var b = await server.ConnectAsync("flood-b");
        await a.JoinAsync(doc);
        await b.JoinAsync(doc);

        // Each session is far below its own limit; together they exceed the document's burst of 3.
        for (var i = 0; i < 2; i++)
        {
            await a.SendAsync(new { type = "op", doc, rev = 2 * i, seq = i + 1, op = i == 0 ? new object[] { "a" } : [2 * i, "a"] });
            await a.WaitForAsync("ack");
            await b.SendAsync(new { type = "op", doc, rev = 2 * i + 1, seq = i + 1, op = new object[] { 2 * i + 1, "b" } });
            if (i == 0) await b.WaitForAsync("ack");
        }
        var limited = await b.WaitForAsync("error");
        Assert.Equal(("rate_limited", doc, 2L), (limited.GetProperty("code").GetString(), limited.GetProperty("doc").GetString(), limited.GetProperty("seq").GetInt64()));
        Assert.InRange(limited.GetProperty("retryAfterMs").GetInt32(), 1, 1000);

        await Task.Delay(limited.GetProperty("retryAfterMs").GetInt32() + 50);
        await b.SendAsync(new { type = "op", doc, rev = 3, seq = 2, op = new object[] { 3, "b" } });
        Assert.Equal(4, (await b.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        using var http = server.Http();
        Assert.Equal("abab", (await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}")).GetProperty("text").GetString());
    }

    [Fact]
    public async Task An_op_that_would_make_the_document_too_long_gets_too_large_and_the_session_goes_on()
    {
        const string doc = "long";
        await using var client = await server.ConnectAsync();
        await client.JoinAsync(doc);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "0123456789x" } });
        var error = await client.ExpectAsync("error");
        Assert.Equal(("too_large", doc, 1L), (error.GetProperty("code").GetString(), error.GetProperty("doc").GetString(), error.GetProperty("seq").GetInt64()));
        Assert.False(error.TryGetProperty("fatal", out _));

        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 2, op = new object[] { "0123456789" } });
        Assert.Equal(1, (await client.ExpectAsync("ack")).GetProperty("rev").GetInt64());
    }
}
