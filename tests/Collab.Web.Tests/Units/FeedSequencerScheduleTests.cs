using System.Text.Json;
using Collab.Contracts;
using Collab.Ot;
using Collab.Testing;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>
/// Drives <see cref="FeedSequencer"/> through seeded random schedules: notifications lost, repeated, reordered and
/// split; joins at any revision (from the recent frames or a fetch); leaves; resends answered by the stream or at once.
/// Synchronous: no grain, socket or timer. A failing seed replays with <c>COLLAB_SEED</c>.
/// </summary>
public sealed class FeedSequencerScheduleTests
{
    public static IEnumerable<object[]> Schedules => Seeds.Range(200);

    private static readonly AuthorTags Tags = new(new byte[32]);

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Every_session_gets_every_revision_after_its_join_once_in_order_and_every_resend_one_answer(int seed)
    {
        var random = new Random(seed);
        var log = new List<CommittedOp>();
        var sequencer = new FeedSequencer("doc", Tags, recentCapacity: 8);
        sequencer.Subscribed(0);
        var members = new List<(SessionDocument Member, long JoinRev, List<long> Owed)>();
        var gone = new List<(SessionDocument Member, long JoinRev, List<long> Owed)>();
        var options = new FrontEndOptions { SendQueueFrames = 100_000, SendQueueBytes = 64 * 1024 * 1024 };

        void Fetch(long? upTo)
        {
            // What the shell does for a gap: GetOps from the grain's log, offered again.
            while (upTo is { } to && sequencer.LastRev < to)
                upTo = sequencer.Offer(log.Skip((int)sequencer.LastRev).Take(1 + random.Next(5)).ToArray()) ?? to;
        }

        try
        {
            for (var step = 0; step < 300; step++)
            {
                var roll = random.Next(100);
                if (roll < 35)
                {
                    // A commit of 1-3 ops by random clients; its notification may be lost, split, reordered or repeated.
                    var ops = Enumerable.Range(0, 1 + random.Next(3)).Select(_ =>
                    {
                        var client = $"c{random.Next(4)}";
                        var op = new CommittedOp(log.Count + 1, client, log.Count + 1, new TextOperationBuilder().Insert("x").Retain(log.Count).Build());
                        log.Add(op);
                        return op;
                    }).ToArray();
                    var fate = random.Next(10);
                    if (fate == 0) continue;                                   // lost
                    if (fate == 1) ops = [.. ops.Reverse()];                    // reordered
                    Fetch(sequencer.Offer(ops));
                    if (fate == 2) Fetch(sequencer.Offer(ops));                 // repeated
                }
                else if (roll < 50)
                {
                    // A later notification or renewal notices what was lost.
                    Fetch(log.Count > 0 ? log.Count : null);
                }
                else if (roll < 65)
                {
                    var session = new Session(options, NullLogger.Instance) { ClientId = $"c{random.Next(4)}" };
                    var member = new SessionDocument(session, "doc", null!);
                    Fetch(log.Count > 0 ? log.Count : null);
                    var joinRev = random.Next((int)sequencer.LastRev + 1);
                    var missed = sequencer.MissedFromRecent(joinRev)
                        ?? log.Skip(joinRev).Take((int)sequencer.LastRev - joinRev).Select(o => (o, Frames.Op("doc", o, Tags.For(o.ClientId)))).ToList();
                    sequencer.Attach(member, new JoinResult(joinRev, null, joinRev, [], []), missed);
                    members.Add((member, joinRev, []));
                }
                else if (roll < 72 && members.Count > 0)
                {
                    var leaving = members[random.Next(members.Count)];
                    sequencer.Detach(leaving.Member);
                    members.Remove(leaving);
                    gone.Add(leaving);
                }
                else if (members.Count > 0)
                {
                    // A resend of one of the member's client's committed ops: the grain said Duplicate at its revision.
                    var (member, _, owed) = members[random.Next(members.Count)];
                    var own = log.Where(o => o.ClientId == member.Session.ClientId).ToList();
                    if (own.Count == 0) continue;
                    var op = own[random.Next(own.Count)];
                    if (owed.Contains(op.Seq) || op.Rev <= member.Rev && log.Count == 0) continue;
                    member.Submitted(op.Seq);
                    owed.Add(op.Seq);
                    Fetch(sequencer.Duplicate(member, op.Seq, op.Rev));
                }
            }
            Fetch(log.Count > 0 ? log.Count : null);
            Assert.Equal(log.Count, sequencer.LastRev);
            Assert.True(sequencer.RecentCount <= 8);
            foreach (var (member, joinRev, owed) in members) Check(member, joinRev, owed, log, upTo: log.Count, stillAttached: true);
            foreach (var (member, joinRev, owed) in gone) Check(member, joinRev, owed, log, upTo: member.Rev, stillAttached: false);
        }
        catch (Exception e) when (e is not SequencerScheduleException)
        {
            throw new SequencerScheduleException($"seed {seed} failed (replay: COLLAB_SEED={seed}): {e.Message}", e);
        }
    }

    private static void Check(SessionDocument member, long joinRev, List<long> owed, List<CommittedOp> log, long upTo, bool stillAttached)
    {
        var frames = new List<JsonElement>();
        while (member.Session.Outbox.TryRead(out var frame)) frames.Add(JsonDocument.Parse(frame).RootElement);
        Assert.All(frames, f => Assert.False(f.TryGetProperty("clientId", out _), $"a frame names a clientId: {f.GetRawText()}"));
        Assert.Equal("joined", frames[0].GetProperty("type").GetString());
        Assert.Equal(joinRev, frames[0].GetProperty("rev").GetInt64());
        var stream = frames.Skip(1).Select(f => (Type: f.GetProperty("type").GetString()!, Rev: f.GetProperty("rev").GetInt64(), Seq: f.TryGetProperty("seq", out var s) ? s.GetInt64() : 0)).ToList();
        // The stream proper: each revision after the join exactly once, in order, as an op or (own op) an ack.
        var inOrder = new List<long>();
        var answeredSeqs = new List<long>();
        var immediate = new List<long>();
        var expectRev = joinRev + 1;
        foreach (var (type, rev, seq) in stream)
        {
            if (type == "ack" && rev < expectRev)
            {
                immediate.Add(seq); // an immediate answer to a resend whose revision the session already had
                continue;
            }
            Assert.Equal(expectRev, rev);
            var op = log[(int)rev - 1];
            Assert.Equal(op.ClientId == member.Session.ClientId ? "ack" : "op", type);
            if (type == "op") Assert.Equal(Tags.For(op.ClientId), frames[inOrder.Count + immediate.Count + 1].GetProperty("author").GetString());
            if (type == "ack") answeredSeqs.Add(seq);
            inOrder.Add(rev);
            expectRev++;
        }
        if (stillAttached) Assert.Equal(upTo, expectRev - 1);
        // Every resend owed an answer got exactly one (the attached ones all have been delivered their revision by now).
        foreach (var seq in owed)
        {
            var rev = log.First(o => o.ClientId == member.Session.ClientId && o.Seq == seq).Rev;
            if (!stillAttached && rev > member.Rev) continue;
            Assert.False(member.IsUnanswered(seq), $"resend of seq {seq} (rev {rev}) was never answered");
        }
        // Immediate answers go only to resends, at most one each.
        Assert.All(immediate, seq => Assert.Contains(seq, owed));
        Assert.Equal(immediate.Count, immediate.Distinct().Count());
    }

    private sealed class SequencerScheduleException(string message, Exception inner) : Exception(message, inner);
}
