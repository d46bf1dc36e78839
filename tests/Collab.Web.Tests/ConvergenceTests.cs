using System.Net.Http.Json;
using System.Text.Json;
using Collab.Ot;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>
/// Convergence over real sockets: many OT clients edit concurrently at random; once every op is acknowledged, every
/// client's text and revision equal the server's. The random seed is printed (set COLLAB_SEED to replay one).
/// </summary>
public sealed class ConvergenceTests(ITestOutputHelper output)
{
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Eight_clients_editing_one_document_converge_to_the_server_text()
    {
        var seed = RandomEdits.Seed();
        output.WriteLine($"seed {seed}");
        await using var server = await CollabServer.StartAsync();
        const string doc = "converge-one";
        var connections = new List<OtConnection>();
        try
        {
            var models = new List<OtClientModel>();
            for (var i = 0; i < 8; i++)
            {
                var connection = await OtConnection.ConnectAsync(server.WebSocketUri, $"conv{i}");
                connections.Add(connection);
                models.Add(await OtClientModel.JoinAsync(connection, doc));
            }

            await Task.WhenAll(models.Select((m, i) => RandomEdits.TypeAsync(m, new Random(seed + i), edits: 40)));
            await AssertConvergedAsync(server, doc, models, connections, seed);
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Six_sockets_each_editing_three_documents_converge_per_document()
    {
        var seed = RandomEdits.Seed();
        output.WriteLine($"seed {seed}");
        await using var server = await CollabServer.StartAsync();
        string[] docs = ["converge-a", "converge-b", "converge-c"];
        var connections = new List<OtConnection>();
        try
        {
            var models = new List<OtClientModel>();
            for (var i = 0; i < 6; i++)
            {
                var connection = await OtConnection.ConnectAsync(server.WebSocketUri, $"multi{i}");
                connections.Add(connection);
                foreach (var doc in docs) models.Add(await OtClientModel.JoinAsync(connection, doc));
            }

            await Task.WhenAll(models.Select((m, i) => RandomEdits.TypeAsync(m, new Random(seed * 31 + i), edits: 20)));
            foreach (var doc in docs)
                await AssertConvergedAsync(server, doc, [.. models.Where(m => m.Doc == doc)], connections, seed);
        }
        finally
        {
            foreach (var c in connections) await c.DisposeAsync();
        }
    }

    private async Task AssertConvergedAsync(CollabServer server, string doc, IReadOnlyList<OtClientModel> models, IReadOnlyList<OtConnection> connections, int seed)
    {
        try
        {
            foreach (var model in models)
                await model.WaitUntilAsync(m => m.State.Synchronized, SettleTimeout, "acknowledgement of every own op");
        }
        catch (TimeoutException e)
        {
            throw new Xunit.Sdk.XunitException($"seed {seed}: {e.Message}");
        }

        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        var serverRev = state.GetProperty("rev").GetInt64();
        var serverText = state.GetProperty("text").GetString();
        output.WriteLine($"{doc}: rev {serverRev}, {serverText!.Length} UTF-16 units, {models.Count} clients");

        foreach (var model in models)
            await model.WaitUntilAsync(m => m.State.Rev >= serverRev, SettleTimeout, $"reaching the server's rev {serverRev}");

        var problems = models.SelectMany(m => m.Problems).Concat(connections.SelectMany(c => c.Problems)).ToList();
        Assert.True(problems.Count == 0, $"seed {seed}: protocol problems:\n{string.Join("\n", problems.Take(20))}");
        Assert.True(serverRev > 0, $"seed {seed}: nothing was committed");
        foreach (var model in models)
        {
            var (text, rev, synchronized, _) = model.State;
            Assert.True(synchronized, $"seed {seed}: {model.ClientId} has ops in flight at the end");
            Assert.True(rev == serverRev, $"seed {seed}: {model.ClientId} is at rev {rev}, the server at {serverRev}");
            Assert.True(text == serverText, $"seed {seed}: {model.ClientId}/{doc} diverged:\nclient: {Escape(text)}\nserver: {Escape(serverText)}");
        }
    }

    private static string Escape(string s) => JsonSerializer.Serialize(s.Length <= 400 ? s : s[..400] + "...");
}
