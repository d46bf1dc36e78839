using Microsoft.Data.Sqlite;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// A front end that is alive says so even while a session's earlier frame waits on its document: a live ping is answered
/// the moment it is read, a plain ping stays a barrier behind the frames before it. The wait is real: another process
/// holds the SQLite database's write lock, so the document's activation (which claims the writer) cannot finish.
/// </summary>
public sealed class LivenessTests
{
    private static readonly Dictionary<string, string> LongBusyTimeout = new() { ["Collab:Storage:BusyTimeout"] = "00:00:30" };

    /// <summary>A data folder holding <paramref name="doc"/> with the text "hi", written by a server that is gone again.</summary>
    private static async Task<string> StoredDocumentAsync(string doc)
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "collab-web-tests", Guid.NewGuid().ToString("N"));
        await using var first = await CollabServer.StartAsync(dataPath: dataPath);
        await using var writer = await first.ConnectAsync();
        await writer.JoinAsync(doc);
        await writer.SendAsync(new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "hi" } });
        await writer.ExpectAsync("ack");
        return dataPath;
    }

    /// <summary>Another process's write lock on the database (released by <see cref="UnlockAsync"/>).</summary>
    private static async Task<SqliteConnection> LockAsync(string dataPath)
    {
        var blocker = new SqliteConnection($"Data Source={Path.Combine(dataPath, "collab.db")};Pooling=false");
        await blocker.OpenAsync();
        await using var begin = blocker.CreateCommand();
        begin.CommandText = "BEGIN EXCLUSIVE";
        await begin.ExecuteNonQueryAsync();
        return blocker;
    }

    private static async Task UnlockAsync(SqliteConnection blocker)
    {
        await using var rollback = blocker.CreateCommand();
        rollback.CommandText = "ROLLBACK";
        await rollback.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task A_live_ping_is_answered_while_an_earlier_join_waits_on_the_store_and_a_plain_ping_waits_behind_it()
    {
        var dataPath = await StoredDocumentAsync("slow-doc");
        // The same data on a fresh server: joining the document activates it, and the activation must write.
        await using var server = await CollabServer.StartAsync(LongBusyTimeout, dataPath);
        await using var client = await server.ConnectAsync();
        await using var blocker = await LockAsync(dataPath);
        try
        {
            await client.SendAsync(new { type = "join", doc = "slow-doc" });
            await client.SendAsync(new { type = "ping", t = 1, live = true });
            var pong = await client.NextAsync(TimeSpan.FromSeconds(5));
            Assert.Equal("pong", pong.GetProperty("type").GetString());
            Assert.Equal(1, pong.GetProperty("t").GetInt32());

            await client.SendAsync(new { type = "ping", t = 2 });
            await client.SendAsync(new { type = "ping", t = 3, live = true });
            Assert.Equal(3, (await client.ExpectAsync("pong", TimeSpan.FromSeconds(5))).GetProperty("t").GetInt32());
            // The plain ping is a barrier: nothing answers it while the join before it waits.
            Assert.True(await client.IsQuietAsync(TimeSpan.FromMilliseconds(700)), "a plain ping overtook the join before it");
        }
        finally
        {
            await UnlockAsync(blocker);
        }

        var joined = await client.ExpectAsync("joined", TimeSpan.FromSeconds(30));
        Assert.Equal("hi", joined.GetProperty("text").GetString());
        Assert.Equal(2, (await client.ExpectAsync("pong", TimeSpan.FromSeconds(5))).GetProperty("t").GetInt32());
    }

    [Fact]
    public async Task A_live_ping_over_the_fallback_is_answered_while_an_earlier_post_waits()
    {
        var dataPath = await StoredDocumentAsync("slow-sse");
        await using var server = await CollabServer.StartAsync(LongBusyTimeout, dataPath);
        await using var sse = await Collab.Testing.SseClient.ConnectAsync(server.BaseUri, "sse-client");
        await using var blocker = await LockAsync(dataPath);
        Task<System.Net.HttpStatusCode> join;
        try
        {
            join = sse.TryPostAsync("""{"type":"join","doc":"slow-sse"}""");
            await Task.Delay(200);
            Assert.Equal(System.Net.HttpStatusCode.Accepted, await sse.PostNowAsync("""{"type":"ping","t":9,"live":true}""").WaitAsync(TimeSpan.FromSeconds(5)));
            Assert.Equal(9, (await sse.ExpectAsync("pong", TimeSpan.FromSeconds(5))).GetProperty("t").GetInt32());
            Assert.False(join.IsCompleted);
        }
        finally
        {
            await UnlockAsync(blocker);
        }
        Assert.Equal(System.Net.HttpStatusCode.Accepted, await join.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("hi", (await sse.ExpectAsync("joined", TimeSpan.FromSeconds(30))).GetProperty("text").GetString());
    }
}
