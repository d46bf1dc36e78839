using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Collab.Ot;
using Collab.Testing;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// The clientId is the key of exactly-once: whoever sends <c>hello</c> with a tab's clientId can submit ops in its name,
/// be acknowledged for them, and make the tab's next real op (same seq) a silently dropped duplicate. So no frame for
/// another session may carry it: others see a tag, which does not let them act as the author.
/// </summary>
public sealed class ImpersonationTests
{
    private const long MaxSeq = 9007199254740991; // 2^53 - 1: with the clientId, a seq that would lock the victim out

    [Fact]
    public async Task A_session_that_sees_a_victims_ops_and_cursor_learns_nothing_to_act_as_it_and_the_victim_loses_no_op()
    {
        await using var server = await CollabServer.StartAsync();
        const string doc = "impersonation";
        var victimId = "victim-" + Guid.NewGuid().ToString("N")[..12];
        // (The test client's display name defaults to its clientId; a browser's is what its user typed.)
        var victimConnection = await OtConnection.ConnectAsync(server.WebSocketUri, victimId, "Victim");
        var impostors = new List<TestClient>();
        try
        {
            var victim = await OtClientModel.JoinAsync(victimConnection, doc);
            var acked = new List<(long Seq, long Rev)>();
            victim.Acked = (seq, rev) => acked.Add((seq, rev));
            var typed = new List<string>();
            async Task TypeAsync(string word)
            {
                typed.Add(word);
                await victim.EditAsync(text => InsertAt(text, text.Length, word));
                await victim.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(10), $"ack of {word}");
            }
            async Task ShowCursorAsync()
            {
                var s = victim.State;
                await victimConnection.SendAsync(JsonSerializer.Serialize(new { type = "presence", doc, rev = s.Rev, anchor = 0, head = s.Text.Length }));
            }

            for (var i = 0; i < 3; i++) await TypeAsync($"<v{i}>");
            await ShowCursorAsync();

            // The attacker joins from revision 0, so it gets the victim's ops in joined.ops, then its cursor, then the live
            // stream: every place a broadcast used to name the victim's clientId.
            await using var attacker = await TestClient.ConnectAsync(server.WebSocketUri, "attacker", recordRaw: true);
            var joined = await attacker.JoinAsync(doc, rev: 0);
            var catchUp = joined.GetProperty("ops").EnumerateArray().ToList();
            Assert.Equal(3, catchUp.Count);
            Assert.All(catchUp, o => Assert.Equal(victim.Author, o.GetProperty("author").GetString()));
            var cursor = await attacker.WaitForAsync("presence", p => p.TryGetProperty("author", out _));
            Assert.Equal(victim.Author, cursor.GetProperty("author").GetString());
            await TypeAsync("<v3>");
            Assert.Equal(victim.Author, (await attacker.WaitForAsync("op")).GetProperty("author").GetString());
            await ShowCursorAsync();
            await attacker.WaitForAsync("presence", p => p.TryGetProperty("author", out _));

            // The attack, with every name the attacker saw for the victim: hello with it, then ops at the victim's next seq
            // and at the largest seq. Each impostor is merely another client; its ops commit in its own name.
            var seen = new[] { victim.Author!, cursor.GetProperty("sessionId").GetString()! };
            foreach (var name in seen)
            {
                var impostor = await TestClient.ConnectAsync(server.WebSocketUri, name, recordRaw: true);
                impostors.Add(impostor);
                var state = await impostor.JoinAsync(doc);
                var (rev, length) = (state.GetProperty("rev").GetInt64(), state.GetProperty("text").GetString()!.Length);
                foreach (var seq in new[] { victim.NextSeq, MaxSeq })
                {
                    await impostor.SendAsync(new { type = "op", doc, rev, seq, op = new object[] { "!", length } });
                    var ack = await impostor.WaitForAsync("ack");
                    Assert.Equal(seq, ack.GetProperty("seq").GetInt64());
                    (rev, length) = (ack.GetProperty("rev").GetInt64(), length + 1);
                }
            }

            // The victim types on: every op is committed (acked at a new revision), none is taken for a duplicate.
            for (var i = 4; i < 12; i++) await TypeAsync($"<v{i}>");

            using var http = server.Http();
            var final = await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}");
            var finalText = final.GetProperty("text").GetString()!;
            var finalRev = final.GetProperty("rev").GetInt64();
            Assert.Equal(typed.Count + 2 * seen.Length, finalRev);
            Assert.All(typed, word => Assert.Equal(1, Occurrences(finalText, word)));
            Assert.Equal(Enumerable.Range(1, typed.Count).Select(i => (long)i), acked.Select(a => a.Seq));
            Assert.Equal(acked.Count, acked.Select(a => a.Rev).Distinct().Count());
            await victim.WaitUntilAsync(m => m.State.Rev == finalRev, TimeSpan.FromSeconds(10), "catching up");
            Assert.Equal(finalText, victim.State.Text);
            var problems = victim.Problems.Concat(victimConnection.Problems).ToList();
            Assert.True(problems.Count == 0, string.Join("\n", problems));

            // Nothing any of them received holds the victim's clientId, in any frame, anywhere in the bytes.
            var secret = Encoding.UTF8.GetBytes(victimId);
            foreach (var client in impostors.Prepend(attacker))
            {
                var frames = client.RawFrames!.ToList();
                Assert.NotEmpty(frames);
                Assert.All(frames, f => Assert.True(f.AsSpan().IndexOf(secret) < 0, $"{client.ClientId} received the victim's clientId: {Encoding.UTF8.GetString(f)}"));
            }
        }
        finally
        {
            foreach (var impostor in impostors) await impostor.DisposeAsync();
            await victimConnection.DisposeAsync();
        }
    }

    private static TextOperation InsertAt(string text, int at, string s) =>
        new TextOperationBuilder().Retain(at).Insert(s).Retain(text.Length - at).Build();

    private static int Occurrences(string text, string word) => (text.Length - text.Replace(word, "", StringComparison.Ordinal).Length) / word.Length;
}
