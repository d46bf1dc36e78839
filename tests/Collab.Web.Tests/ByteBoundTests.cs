using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Collab.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

/// <summary>
/// The byte bounds over real sockets: no frame the server sends exceeds the client's limit (large texts in parts,
/// catch-ups that would be larger answered with the text), ops whose re-encoding would not fit are refused, and a
/// session's op bytes per second are limited. The limits are small here so the documents stay small.
/// </summary>
[Collection(HeavyLoad.Name)]
public sealed class ByteBoundTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int MaxFrame = 64 * 1024;
    private CollabServer server = null!;

    public async Task InitializeAsync() => server = await CollabServer.StartAsync(new Dictionary<string, string>
    {
        ["Collab:FrontEnd:MaxMessageBytes"] = MaxFrame.ToString(),
        ["Collab:FrontEnd:SendQueueBytes"] = (4 * MaxFrame).ToString(),
        // The byte rate is lifted here; the last test checks it on a server of its own.
        ["Collab:FrontEnd:OpBytesPerSecond"] = (256 * 1024 * 1024).ToString(),
        ["Collab:FrontEnd:OpByteBurst"] = (256 * 1024 * 1024).ToString(),
        ["Collab:Documents:MaxCatchUpBytes"] = "32768",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    private static async Task<long> AppendAsync(TestClient client, string doc, long rev, long seq, int length, string text)
    {
        await client.SendAsync(new { type = "op", doc, rev, seq, op = length == 0 ? new object[] { text } : [length, text] });
        // The ack, or an error for this op, which fails the test with its message rather than a timeout.
        while (true)
        {
            var frame = await client.NextAsync(TimeSpan.FromSeconds(30));
            var type = frame.GetProperty("type").GetString();
            if (!frame.TryGetProperty("seq", out var s) || s.GetInt64() != seq) continue;
            if (type == "ack") return frame.GetProperty("rev").GetInt64();
            if (type == "error") throw new Xunit.Sdk.XunitException($"op {seq} was refused: {frame.GetRawText()}");
        }
    }

    [Fact]
    public async Task A_document_far_larger_than_a_frame_opens_in_parts_and_reassembles_to_the_stored_text()
    {
        const string doc = "big-text";
        await using var writer = await server.ConnectAsync("big-writer");
        await writer.JoinAsync(doc);
        var expected = new StringBuilder();
        long rev = 0;
        // 80 ops of 15 000 characters (quotes and astral characters weigh more on the wire): 1.2 M characters.
        for (var i = 0; i < 80; i++)
        {
            var piece = string.Concat(Enumerable.Range(0, 5_000).Select(j => (i + j) % 5 == 0 ? "😀\"" : "abc"));
            rev = await AppendAsync(writer, doc, rev, i + 1, expected.Length, piece);
            expected.Append(piece);
        }

        await using var reader = await TestClient.ConnectAsync(server.WebSocketUri, "big-reader", recordRaw: true);
        await reader.SendAsync(new { type = "join", doc });
        var joined = await reader.ExpectAsync("joined", TimeSpan.FromSeconds(30));
        Assert.Equal(expected.ToString(), joined.GetProperty("text").GetString());
        Assert.Equal(rev, joined.GetProperty("rev").GetInt64());
        var parts = joined.GetProperty("parts").GetInt32();
        Assert.True(parts >= 20, $"{parts} parts");
        Assert.InRange(reader.MaxFrameBytes, 1, MaxFrame);
        output.WriteLine($"{expected.Length} characters opened in {parts} frames of at most {reader.MaxFrameBytes} bytes (limit {MaxFrame})");

        // Editing goes on for both, on top of the reassembled text.
        await reader.SendAsync(new { type = "op", doc, rev, seq = 1, op = new object[] { "!", expected.Length } });
        await reader.WaitForAsync("ack");
        await writer.WaitForAsync("op");
        using var http = server.Http();
        Assert.Equal("!" + expected, (await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}")).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_catch_up_heavier_than_its_byte_bound_is_answered_with_the_text_and_never_exceeds_the_frame_limit()
    {
        const string doc = "churn";
        await using var writer = await server.ConnectAsync("churn-writer");
        await writer.JoinAsync(doc);
        var chunk = new string('c', 30_000);
        long rev = 0, seq = 0;
        // Insert 30 000 characters and delete them again, 20 times: heavy ops, an empty text.
        for (var i = 0; i < 20; i++)
        {
            rev = await AppendAsync(writer, doc, rev, ++seq, 0, chunk);
            await writer.SendAsync(new { type = "op", doc, rev, seq = ++seq, op = new object[] { -chunk.Length } });
            rev = (await writer.WaitForAsync("ack", a => a.GetProperty("seq").GetInt64() == seq)).GetProperty("rev").GetInt64();
        }

        await using var late = await TestClient.ConnectAsync(server.WebSocketUri, "churn-late", recordRaw: true);
        var joined = await late.JoinAsync(doc, rev: 0);
        // 600 KB of ops against an empty text: the text it is.
        Assert.Equal("", joined.GetProperty("text").GetString());
        Assert.False(joined.TryGetProperty("ops", out _));
        Assert.Equal(rev, joined.GetProperty("rev").GetInt64());

        // A short catch-up (one delete) is still sent as ops.
        await using var recent = await TestClient.ConnectAsync(server.WebSocketUri, "churn-recent", recordRaw: true);
        var caughtUp = await recent.JoinAsync(doc, rev: rev - 1);
        Assert.Equal(1, caughtUp.GetProperty("ops").GetArrayLength());
        Assert.InRange(Math.Max(late.MaxFrameBytes, recent.MaxFrameBytes), 1, MaxFrame);
    }

    [Fact]
    public async Task An_op_whose_frame_to_the_others_could_exceed_the_limit_is_refused_and_the_session_goes_on()
    {
        const string doc = "astral";
        await using var client = await server.ConnectAsync("astral-writer");
        await client.JoinAsync(doc);
        // 10 000 emoji: 40 KB as the client sends them (raw UTF-8), up to 120 KB as others receive them (escaped).
        var emoji = string.Concat(Enumerable.Repeat("😀", 10_000));
        await client.SendRawAsync($$"""{"type":"op","doc":"{{doc}}","rev":0,"seq":1,"op":["{{emoji}}"]}""");
        var error = await client.ExpectAsync("error");
        Assert.Equal(("too_large", 1L), (error.GetProperty("code").GetString(), error.GetProperty("seq").GetInt64()));
        Assert.False(error.TryGetProperty("fatal", out _));
        Assert.Contains("split it", error.GetProperty("message").GetString());
        // Cut in four, the same text goes through.
        long rev = 0;
        for (var i = 0; i < 4; i++) rev = await AppendAsync(client, doc, rev, 2 + i, i * 5000, string.Concat(Enumerable.Repeat("😀", 2500)));
        using var http = server.Http();
        Assert.Equal(emoji, (await http.GetFromJsonAsync<JsonElement>($"/api/docs/{doc}")).GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_session_sending_more_op_bytes_per_second_than_allowed_gets_rate_limited_and_its_resend_lands()
    {
        const string doc = "byte-rate";
        // A server of its own with a low byte rate: 256 KB/s, a burst of 512 KB.
        await using var limitedServer = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:FrontEnd:MaxMessageBytes"] = MaxFrame.ToString(),
            ["Collab:FrontEnd:OpBytesPerSecond"] = (256 * 1024).ToString(),
            ["Collab:FrontEnd:OpByteBurst"] = (8 * MaxFrame).ToString(),
        });
        await using var client = await limitedServer.ConnectAsync("byte-rate-writer");
        await client.JoinAsync(doc);
        var chunk = new string('b', 60_000);
        // Twelve ops of 60 KB sent at once: 720 KB, more than the burst and what a fraction of a second refills.
        for (var i = 0; i < 12; i++)
            await client.SendAsync(new { type = "op", doc, rev = 0, seq = i + 1, op = new object[] { chunk } });
        var limited = await client.WaitForAsync("error", e => e.GetProperty("code").GetString() == "rate_limited");
        var seq = limited.GetProperty("seq").GetInt64();
        Assert.InRange(seq, 2, 12);
        Assert.Contains("bytes of ops per second", limited.GetProperty("message").GetString());
        var wait = limited.GetProperty("retryAfterMs").GetInt32();
        Assert.InRange(wait, 1, 1000);
        await Task.Delay(wait + 100);
        await client.SendAsync(new { type = "op", doc, rev = 0, seq = 100, op = new object[] { "z" } });
        await client.WaitForAsync("ack", a => a.GetProperty("seq").GetInt64() == 100, TimeSpan.FromSeconds(10));
    }
}
