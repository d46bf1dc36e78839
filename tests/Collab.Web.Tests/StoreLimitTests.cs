using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Collab.Testing;
using Microsoft.Data.Sqlite;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

/// <summary>
/// The store's disk bound seen by editors: a store that is full (SQLite's page limit, as a full disk behaves) answers
/// <c>internal</c> with <c>retryAfterMs</c>, loses no acknowledged op and corrupts nothing; once there is room again the
/// same op resent with its seq is applied exactly once. Sizes are visible in the status endpoints.
/// </summary>
public sealed class StoreLimitTests(ITestOutputHelper output)
{
    private static object Append(string doc, long rev, long seq, int length, string text) =>
        new { type = "op", doc, rev, seq, op = length == 0 ? new object[] { text } : new object[] { length, text } };

    [Fact]
    public async Task A_full_store_answers_internal_with_retryAfterMs_and_loses_nothing_and_the_resent_op_applies_once_when_there_is_room()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "collab-web-tests", Guid.NewGuid().ToString("N"));
        const string Doc = "filling";
        var piece = new string('f', 20_000);
        var acked = new List<long>();
        long failedSeq;
        await using (var limited = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:Storage:MaxSizeBytes"] = "524288" }, dataPath))
        {
            await using var client = await limited.ConnectAsync("writer");
            await client.JoinAsync(Doc);
            JsonElement? refusal = null;
            for (var seq = 1L; seq <= 100 && refusal is null; seq++)
            {
                await client.SendAsync(Append(Doc, acked.Count, seq, acked.Count * piece.Length, piece));
                var reply = await client.NextAsync();
                if (reply.GetProperty("type").GetString() == "ack")
                {
                    Assert.Equal(acked.Count + 1, reply.GetProperty("rev").GetInt64());
                    acked.Add(seq);
                }
                else refusal = reply;
            }

            Assert.NotNull(refusal);
            var error = refusal.Value;
            output.WriteLine($"{acked.Count} ops of 20 000 characters fit in 512 KiB; then {error.GetRawText()}");
            Assert.Equal("error", error.GetProperty("type").GetString());
            Assert.Equal("internal", error.GetProperty("code").GetString());
            Assert.True(error.GetProperty("retryAfterMs").GetInt32() > 0);
            Assert.False(error.TryGetProperty("fatal", out var fatal) && fatal.GetBoolean(), "a full store is not a reason to drop the session");
            failedSeq = error.GetProperty("seq").GetInt64();
            Assert.Equal(acked.Count + 1, failedSeq);
            Assert.InRange(acked.Count, 5, 30);

            // Still full: the same op again is refused the same way (and the session lives on).
            await client.SendAsync(Append(Doc, acked.Count, failedSeq, acked.Count * piece.Length, piece));
            var again = await client.WaitForAsync("error", f => f.TryGetProperty("seq", out var s) && s.GetInt64() == failedSeq, TimeSpan.FromSeconds(10));
            Assert.Equal("internal", again.GetProperty("code").GetString());

            using var http = limited.Http();
            var store = await http.GetFromJsonAsync<JsonElement>("/api/operations/store");
            Assert.Equal(524288, store.GetProperty("limitBytes").GetInt64());
        }

        await using (var check = new SqliteConnection($"Data Source={Path.Combine(dataPath, "collab.db")};Mode=ReadOnly;Pooling=False"))
        {
            await check.OpenAsync();
            await using var command = check.CreateCommand();
            command.CommandText = "PRAGMA integrity_check;";
            Assert.Equal("ok", (string?)await command.ExecuteScalarAsync());
        }

        // The operator lifts the limit (a bigger disk): every acknowledged op is there, the refused one is not.
        await using var roomy = await CollabServer.StartAsync(dataPath: dataPath);
        using (var http = roomy.Http())
        {
            var document = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{Doc}");
            Assert.Equal(acked.Count, document.GetProperty("rev").GetInt64());
            Assert.Equal(string.Concat(Enumerable.Repeat(piece, acked.Count)), document.GetProperty("text").GetString());
        }

        await using var resumed = await roomy.ConnectAsync("writer");
        await resumed.JoinAsync(Doc, rev: acked.Count);
        await resumed.SendAsync(Append(Doc, acked.Count, failedSeq, acked.Count * piece.Length, piece));
        var ack = await resumed.WaitForAsync("ack");
        Assert.Equal((failedSeq, acked.Count + 1L), (ack.GetProperty("seq").GetInt64(), ack.GetProperty("rev").GetInt64()));
        await resumed.SendAsync(Append(Doc, acked.Count, failedSeq, acked.Count * piece.Length, piece));
        var duplicate = await resumed.WaitForAsync("ack");
        Assert.Equal(acked.Count + 1L, duplicate.GetProperty("rev").GetInt64());
        using (var http = roomy.Http())
        {
            var document = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{Doc}");
            Assert.Equal(string.Concat(Enumerable.Repeat(piece, acked.Count + 1)), document.GetProperty("text").GetString());
        }
    }

    [Fact]
    public async Task The_status_endpoints_show_what_a_document_and_the_store_occupy()
    {
        await using var server = await CollabServer.StartAsync();
        await using var client = await server.ConnectAsync("sizer");
        await client.JoinAsync("sized");
        for (var seq = 1; seq <= 3; seq++)
        {
            await client.SendAsync(Append("sized", seq - 1, seq, (seq - 1) * 1000, new string('s', 1000)));
            await client.ExpectAsync("ack");
        }
        using var http = server.Http();

        var status = await http.GetFromJsonAsync<JsonElement>("/api/docs/sized/status");
        var stored = status.GetProperty("store");
        Assert.Equal(3, stored.GetProperty("ops").GetInt64());
        Assert.Equal(1, stored.GetProperty("firstOpRev").GetInt64());
        Assert.InRange(stored.GetProperty("opBytes").GetInt64(), 3000, 3100);
        Assert.Equal(stored.GetProperty("opBytes").GetInt64() + stored.GetProperty("checkpointBytes").GetInt64() + stored.GetProperty("snapshotBytes").GetInt64(),
            stored.GetProperty("totalBytes").GetInt64());
        var unwritten = await http.GetFromJsonAsync<JsonElement>("/api/docs/nobody-wrote-this/status");
        Assert.Equal(0, unwritten.GetProperty("store").GetProperty("totalBytes").GetInt64());

        var store = await http.GetFromJsonAsync<JsonElement>("/api/operations/store");
        Assert.True(store.GetProperty("bytes").GetInt64() > 3000);
        Assert.Equal(JsonValueKind.Null, store.GetProperty("limitBytes").ValueKind);
    }

    [Fact]
    public async Task With_access_control_the_store_footprint_is_the_operators()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:Access:Mode"] = "Links",
            ["Collab:Access:SigningKey"] = Convert.ToBase64String(Enumerable.Range(0, 48).Select(i => (byte)(i * 7)).ToArray()),
            ["Collab:Operations:OperatorKey"] = "operator-key-for-tests-0123456789",
        });
        using var http = server.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/operations/store")).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/operations/store");
        request.Headers.Authorization = new("Bearer", "operator-key-for-tests-0123456789");
        var answer = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.True((await answer.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("bytes").GetInt64() > 0);
    }
}
