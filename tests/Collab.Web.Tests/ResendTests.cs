using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Collab.Ot;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>Exactly-once across resends and reconnects: a resent (clientId, seq) is answered, never applied twice.</summary>
public sealed class ResendTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_op_sent_just_before_the_socket_drops_is_applied_exactly_once_after_resuming()
    {
        await using var server = await CollabServer.StartAsync();
        const string doc = "resend-drop";
        const int rounds = 30;
        var outcomes = new Dictionary<string, int>();

        // A second client edits the same document all along, so resumes must also rebase over others' ops.
        var otherConnection = await OtConnection.ConnectAsync(server.WebSocketUri, "bystander");
        var connection = await OtConnection.ConnectAsync(server.WebSocketUri, "dropper");
        try
        {
            var other = await OtClientModel.JoinAsync(otherConnection, doc);
            var otherAcks = 0; // the bystander may compose several edits into one op while one is in flight
            other.Acked = (_, _) => otherAcks++;
            var model = await OtClientModel.JoinAsync(connection, doc);
            for (var i = 0; i < rounds; i++)
            {
                await other.EditAsync(text => InsertAt(text, text.Length, $"<o{i}>"));
                var seq = await model.EditAsync(text => InsertAt(text, 0, $"[d{i}]"));
                Assert.NotNull(seq);
                // Vary how the socket goes away: abort at once, or after the frame had a moment to reach the server.
                if (i % 3 == 1) await Task.Yield();
                connection.Abort();
                await connection.DisposeAsync();

                connection = await OtConnection.ConnectAsync(server.WebSocketUri, "dropper");
                await model.ResumeAsync(connection);
                outcomes[model.LastResumeOutcome!] = outcomes.GetValueOrDefault(model.LastResumeOutcome!) + 1;
                await model.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(10), $"ack of [d{i}] after resuming");
            }
            await other.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(10), "ack of every bystander op");

            using var http = server.Http();
            var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
            var text = state.GetProperty("text").GetString()!;
            var rev = state.GetProperty("rev").GetInt64();
            output.WriteLine($"resume outcomes: {string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}"))}; bystander ops {otherAcks}; final rev {rev}");

            for (var i = 0; i < rounds; i++)
            {
                Assert.True(Occurrences(text, $"[d{i}]") == 1, $"[d{i}] occurs {Occurrences(text, $"[d{i}]")} times in {text}");
                Assert.True(Occurrences(text, $"<o{i}>") == 1, $"<o{i}> occurs {Occurrences(text, $"<o{i}>")} times in {text}");
            }
            // One revision per op: a duplicate commit would add a revision even if it were somehow invisible in the text.
            Assert.Equal(rounds + otherAcks, rev);
            await model.WaitUntilAsync(m => m.State.Rev == rev, TimeSpan.FromSeconds(10), "catching up");
            await other.WaitUntilAsync(m => m.State.Rev == rev, TimeSpan.FromSeconds(10), "catching up");
            Assert.Equal(text, model.State.Text);
            Assert.Equal(text, other.State.Text);
            var problems = model.Problems.Concat(other.Problems).Concat(connection.Problems).Concat(otherConnection.Problems).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));
        }
        finally
        {
            await connection.DisposeAsync();
            await otherConnection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Resending_an_acked_op_on_the_same_socket_gets_the_original_ack_and_changes_nothing()
    {
        await using var server = await CollabServer.StartAsync();
        const string doc = "resend-same";
        await using var client = await server.ConnectAsync("same-socket");
        await client.JoinAsync(doc);
        var frame = new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "once" } };
        await client.SendAsync(frame);
        var ack = await client.WaitForAsync("ack");
        Assert.Equal(1, ack.GetProperty("rev").GetInt64());

        await client.SendAsync(frame);
        var again = await NextAckOrErrorAsync(client, "a resend of acked seq 1 on the same socket");
        Assert.Equal("ack", again.GetProperty("type").GetString());
        Assert.Equal(1, again.GetProperty("seq").GetInt64());
        Assert.Equal(1, again.GetProperty("rev").GetInt64());
        await AssertDocumentAsync(server, doc, 1, "once");
    }

    [Fact]
    public async Task Resending_an_acked_op_after_rejoining_gets_the_original_ack_and_changes_nothing()
    {
        await using var server = await CollabServer.StartAsync();
        const string doc = "resend-rejoin";
        await using var writer = await server.ConnectAsync("rejoiner");
        await using var other = await server.ConnectAsync("other");
        await writer.JoinAsync(doc);
        await other.JoinAsync(doc);
        var first = new { type = "op", doc, rev = 0, seq = 1, op = new object[] { "A" } };
        await writer.SendAsync(first);
        Assert.Equal(1, (await writer.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        await other.WaitForAsync("op");
        await other.SendAsync(new { type = "op", doc, rev = 1, seq = 1, op = new object[] { 1, "B" } });
        Assert.Equal(2, (await other.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        await writer.WaitForAsync("op");
        var second = new { type = "op", doc, rev = 2, seq = 2, op = new object[] { 2, "C" } };
        await writer.SendAsync(second);
        Assert.Equal(3, (await writer.WaitForAsync("ack")).GetProperty("rev").GetInt64());
        await other.WaitForAsync("op", f => f.GetProperty("rev").GetInt64() == 3);

        // Same socket, joined again (without and with a rev): both the last and an older seq are answered with their revs.
        var rejoined = await writer.JoinAsync(doc);
        Assert.Equal(3, rejoined.GetProperty("rev").GetInt64());
        await writer.SendAsync(second);
        AssertAck(await NextAckOrErrorAsync(writer, "resend of seq 2 after rejoining"), 2, 3);
        await writer.SendAsync(first);
        AssertAck(await NextAckOrErrorAsync(writer, "resend of older seq 1 after rejoining"), 1, 1);

        // A new socket with the same clientId, joined with its last rev.
        await using var reconnected = await server.ConnectAsync("rejoiner");
        var resumed = await reconnected.JoinAsync(doc, rev: 3);
        Assert.Equal(0, resumed.GetProperty("ops").GetArrayLength());
        await reconnected.SendAsync(first);
        AssertAck(await NextAckOrErrorAsync(reconnected, "resend of seq 1 on a new socket"), 1, 1);
        await reconnected.SendAsync(second);
        AssertAck(await NextAckOrErrorAsync(reconnected, "resend of seq 2 on a new socket"), 2, 3);

        await AssertDocumentAsync(server, doc, 3, "ABC");
        if (!await other.IsQuietAsync(TimeSpan.FromMilliseconds(300)))
        {
            var unexpected = await other.NextAsync();
            Assert.True(unexpected.GetProperty("type").GetString() != "op", $"a resend must not reach other sessions as a new op: {unexpected.GetRawText()}");
        }
    }

    private static void AssertAck(JsonElement frame, long seq, long rev)
    {
        Assert.True(frame.GetProperty("type").GetString() == "ack", $"expected an ack, got {frame.GetRawText()}");
        Assert.Equal(seq, frame.GetProperty("seq").GetInt64());
        Assert.Equal(rev, frame.GetProperty("rev").GetInt64());
    }

    /// <summary>The next ack or error (presence and other frames skipped); fails clearly when the server stays silent.</summary>
    private static async Task<JsonElement> NextAckOrErrorAsync(TestClient client, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            JsonElement frame;
            try
            {
                if (left <= TimeSpan.Zero) throw new TimeoutException();
                frame = await client.NextAsync(left);
            }
            catch (TimeoutException)
            {
                throw new Xunit.Sdk.XunitException($"{what}: the server answered nothing within 3 s (expected an ack with the original rev)");
            }
            if (frame.GetProperty("type").GetString() is "ack" or "error" or "op") return frame;
        }
    }

    private static async Task AssertDocumentAsync(CollabServer server, string doc, long rev, string text)
    {
        using var http = server.Http();
        var state = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
        Assert.Equal(rev, state.GetProperty("rev").GetInt64());
        Assert.Equal(text, state.GetProperty("text").GetString());
    }

    private static int Occurrences(string text, string token) => Regex.Matches(text, Regex.Escape(token)).Count;

    private static TextOperation InsertAt(string text, int at, string insert) =>
        new TextOperationBuilder().Retain(at).Insert(insert).Retain(text.Length - at).Build();
}
