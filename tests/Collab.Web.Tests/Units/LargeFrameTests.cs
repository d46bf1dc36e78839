using System.Text;
using System.Text.Json;
using Collab.Contracts;
using Collab.Ot;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>
/// What the feed queues for a session stays within the frame limit and the recent frames within their byte bound:
/// full texts in parts built as they are read, catch-ups that do not fit one <c>joined</c> continued as op frames.
/// </summary>
public sealed class LargeFrameTests
{
    private static readonly AuthorTags Tags = new(new byte[32]);

    private static (Session Session, SessionDocument Member) Joiner(int maxMessageBytes, string clientId = "joiner")
    {
        var options = new FrontEndOptions { MaxMessageBytes = maxMessageBytes, SendQueueFrames = 1000, SendQueueBytes = 4 * maxMessageBytes };
        var session = new Session(options, NullLogger.Instance) { ClientId = clientId };
        return (session, new SessionDocument(session, "doc", null!));
    }

    private static List<byte[]> Drain(Session session)
    {
        var frames = new List<byte[]>();
        while (session.Outbox.TryRead(out var frame))
        {
            session.Sent(frame);
            frames.Add(frame);
        }
        return frames;
    }

    [Fact]
    public void A_text_larger_than_a_frame_goes_out_in_parts_each_within_the_limit_and_ahead_of_later_frames()
    {
        const int max = 16 * 1024;
        // Printable ASCII, quotes, astral characters and controls: each weighs differently on the wire.
        var text = string.Concat(Enumerable.Range(0, 20_000).Select(i => (i % 7) switch { 0 => "\"", 1 => "😀", 2 => "\u0001", _ => "ab" }));
        var sequencer = new FeedSequencer("doc", Tags);
        sequencer.Subscribed(5);
        var (session, member) = Joiner(max);
        sequencer.Attach(member, new JoinResult(5, text, null, null, []), []);
        sequencer.Offer([new CommittedOp(6, "someone", 1, new TextOperationBuilder().Insert("!").Retain(text.Length).Build())]);

        var frames = Drain(session).Select(f => (Bytes: f.Length, Json: JsonDocument.Parse(f).RootElement)).ToList();
        Assert.All(frames, f => Assert.InRange(f.Bytes, 1, max));
        var parts = frames[0].Json.GetProperty("parts").GetInt32();
        Assert.True(parts > 3, $"{parts} parts");
        Assert.Equal("joined", frames[0].Json.GetProperty("type").GetString());
        var whole = new StringBuilder();
        for (var i = 0; i < parts; i++)
        {
            var json = frames[i].Json;
            Assert.Equal(i == 0 ? "joined" : "text", json.GetProperty("type").GetString());
            if (i > 0) Assert.Equal(i + 1, json.GetProperty("part").GetInt32());
            Assert.Equal(5, json.GetProperty("rev").GetInt64());
            whole.Append(json.GetProperty("text").GetString());
        }
        Assert.Equal(text, whole.ToString());
        // The op committed after the join comes after the whole text.
        Assert.Equal("op", frames[parts].Json.GetProperty("type").GetString());
        Assert.Equal(parts + 1, frames.Count);
    }

    [Fact]
    public void A_queued_text_holds_one_part_at_a_time_against_the_queue_bound()
    {
        const int max = 8 * 1024;
        var sequencer = new FeedSequencer("doc", Tags);
        sequencer.Subscribed(1);
        // Far larger than the session's whole queue (4 × max): queued as one item, it does not overflow it.
        var (session, member) = Joiner(max);
        sequencer.Attach(member, new JoinResult(1, new string('t', 100 * max), null, null, []), []);
        Assert.Null(session.CloseRequest);
        Assert.True(session.Outbox.TryRead(out var first));
        Assert.InRange(first.Length, 1, max);
        Assert.Null(session.CloseRequest);
    }

    [Fact]
    public void A_catch_up_that_does_not_fit_one_joined_continues_as_op_frames_in_order()
    {
        const int max = 8 * 1024;
        var ops = Enumerable.Range(1, 10).Select(r => new CommittedOp(r, r % 2 == 0 ? "joiner" : "other", r,
            new TextOperationBuilder().Retain((r - 1) * 3000).Insert(new string('o', 3000)).Build())).ToArray();
        var sequencer = new FeedSequencer("doc", Tags);
        sequencer.Subscribed(10);
        var (session, member) = Joiner(max);
        sequencer.Attach(member, new JoinResult(10, null, 0, ops, []), []);

        var frames = Drain(session).Select(f => (Bytes: f.Length, Json: JsonDocument.Parse(f).RootElement)).ToList();
        Assert.All(frames, f => Assert.InRange(f.Bytes, 1, max));
        var joined = frames[0].Json;
        var inJoined = joined.GetProperty("ops").GetArrayLength();
        Assert.InRange(inJoined, 1, 9);
        Assert.Equal(inJoined, joined.GetProperty("rev").GetInt64());
        // Every revision once, in order: in joined, then as op (others') or ack (the joiner's own) frames.
        var revs = joined.GetProperty("ops").EnumerateArray().Select(o => o.GetProperty("rev").GetInt64())
            .Concat(frames.Skip(1).Select(f => f.Json.GetProperty("rev").GetInt64())).ToList();
        Assert.Equal(Enumerable.Range(1, 10).Select(r => (long)r), revs);
        Assert.All(frames.Skip(1), f => Assert.Equal(f.Json.GetProperty("rev").GetInt64() % 2 == 0 ? "ack" : "op", f.Json.GetProperty("type").GetString()));
        Assert.Equal(10, member.Rev);
    }

    [Fact]
    public void The_recent_frames_stay_within_their_byte_bound_and_a_joiner_further_back_is_fetched()
    {
        const long bound = 1024 * 1024;
        var sequencer = new FeedSequencer("doc", Tags, recentCapacity: 512, recentBytes: bound);
        sequencer.Subscribed(0);
        var chunk = new string('r', 100_000);
        for (var r = 1; r <= 40; r++)
        {
            var op = r % 2 == 1 ? new TextOperationBuilder().Insert(chunk).Build() : new TextOperationBuilder().Delete(chunk.Length).Build();
            sequencer.Offer([new CommittedOp(r, "writer", r, op)]);
            Assert.InRange(sequencer.RecentBytes, 0, bound);
        }
        Assert.InRange(sequencer.RecentCount, 2, 12);
        Assert.Null(sequencer.MissedFromRecent(1));
        Assert.Equal([40L], sequencer.MissedFromRecent(39)!.Select(m => m.Op.Rev));
    }

    [Fact]
    public void The_wire_size_bound_holds_for_what_the_frames_writer_actually_produces()
    {
        var random = new Random(7);
        string[] alphabet = ["a", "\"", "\\", "\n", "\u0001", "é", "€", "😀", "\u2028", "<", "\ud800"];
        for (var round = 0; round < 200; round++)
        {
            var text = string.Concat(Enumerable.Range(0, random.Next(1, 400)).Select(_ => alphabet[random.Next(alphabet.Length)]));
            var op = new TextOperationBuilder().Retain(3).Insert(text).Delete(2).Build();
            var frame = Frames.Op("doc", new CommittedOp(1, "c", 1, op), "tag");
            var payload = Frames.Op("doc", new CommittedOp(1, "c", 1, new TextOperationBuilder().Retain(3).Delete(2).Build()), "tag");
            Assert.True(frame.Length - payload.Length <= WireSize.String(text) + 1, $"'{text}' took {frame.Length - payload.Length} bytes, bound {WireSize.String(text)}");
        }
    }
}
