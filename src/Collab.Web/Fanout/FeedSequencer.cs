using Collab.Contracts;
using Collab.Web.Protocol;

namespace Collab.Web.Fanout;

/// <summary>
/// The decisions of one document's feed, with no I/O: which revision comes next, what each session is sent (an
/// <c>op</c> frame, or an <c>ack</c> for its own op), what a joiner missed, and when a gap must be fetched from the grain.
/// <see cref="DocumentFeed"/> is the shell: it feeds notifications and fetched ops in, and performs the fetches asked for.
/// </summary>
/// <remarks>
/// Invariants: revisions are published in order, each once; every session is sent each revision after its join exactly
/// once, in order; a resend is answered exactly once (by the stream's ack, or at once when the stream already passed it).
/// Frames for other sessions name an op's or cursor's author by its tag (<see cref="AuthorTags"/>), never by clientId:
/// the clientId, which decides here whether a session gets an <c>op</c> or its own <c>ack</c>, stays on the server.
/// </remarks>
internal sealed class FeedSequencer(string documentId, AuthorTags tags, int recentCapacity = FeedSequencer.DefaultRecentCapacity, long recentBytes = FeedSequencer.DefaultRecentBytes)
{
    public const int DefaultRecentCapacity = 512;

    /// <summary>The most the recent frames may weigh together; large ops push old ones out before the count is reached.</summary>
    public const long DefaultRecentBytes = 4L * 1024 * 1024;

    private long recentWeight;

    private readonly List<SessionDocument> sessions = [];
    private readonly Queue<(CommittedOp Op, byte[] Frame)> recent = new();

    /// <summary>The last revision published (-1 until subscribed).</summary>
    public long LastRev { get; private set; } = -1;

    /// <summary>The sessions attached.</summary>
    public IReadOnlyList<SessionDocument> Sessions => sessions;

    /// <summary>Recent frames kept for joiners.</summary>
    public int RecentCount => recent.Count;

    /// <summary>What the recent frames weigh, in bytes (frames plus the ops they were built from).</summary>
    public long RecentBytes => recentWeight;

    private static long Weight(CommittedOp op, byte[] frame) => frame.Length + Ot.WireSize.Memory(op.Op);

    /// <summary>The host subscribed; the grain was at <paramref name="committedRev"/>.</summary>
    public void Subscribed(long committedRev)
    {
        if (LastRev < 0) LastRev = committedRev;
    }

    /// <summary>
    /// Publishes what can be published of <paramref name="ops"/> (a notification or a fetch, in any order, possibly
    /// repeated); returns the revision to fetch up to when a gap stops it, or null.
    /// </summary>
    public long? Offer(IReadOnlyList<CommittedOp> ops)
    {
        long? gapTo = null;
        foreach (var op in ops)
        {
            if (op.Rev <= LastRev) continue;
            if (op.Rev == LastRev + 1) Publish(op);
            else gapTo = Math.Max(gapTo ?? 0, op.Rev);
        }
        return gapTo is { } to && to > LastRev ? to : null;
    }

    /// <summary>The ops after <paramref name="rev"/> up to <see cref="LastRev"/> from the recent frames, or null when they reach back too far.</summary>
    public List<(CommittedOp Op, byte[] Frame)>? MissedFromRecent(long rev)
    {
        if (rev >= LastRev) return [];
        if (recent.Count > 0 && recent.Peek().Op.Rev <= rev + 1) return [.. recent.Where(r => r.Op.Rev > rev)];
        return null;
    }

    /// <summary>
    /// Attaches a joiner at <see cref="JoinResult.Rev"/> (the feed is normally at or past it; revisions it has not
    /// reached arrive in order later): sends <c>joined</c>, then
    /// <paramref name="missed"/> (the ops after the join up to <see cref="LastRev"/>), then presences.
    /// </summary>
    public void Attach(SessionDocument member, JoinResult join, IEnumerable<(CommittedOp Op, byte[] Frame)> missed)
    {
        var session = member.Session;
        var maxFrame = session.MaxFrameBytes;
        if (join.Text is { } text)
        {
            member.Rev = join.Rev;
            var queued = TextParts.Needed(text, maxFrame)
                ? session.Enqueue(new TextParts(documentId, join.Rev, member.AccessLabel, text, maxFrame))
                : session.Enqueue(Frames.Joined(documentId, join, tags, member.AccessLabel));
            if (!queued) return;
        }
        else
        {
            // As many catch-up ops as fit the frame go into joined; the rest follow as op (or ack) frames, in order.
            var ops = join.Ops ?? [];
            var fit = Frames.JoinedOps(ops, maxFrame);
            member.Rev = (join.Since ?? 0) + fit;
            if (!session.Enqueue(Frames.Joined(documentId, join, tags, member.AccessLabel, fit))) return;
            for (var i = fit; i < ops.Length; i++) Deliver(member, ops[i], Frames.Op(documentId, ops[i], tags.For(ops[i].ClientId)));
        }
        foreach (var (op, frame) in missed) Deliver(member, op, frame);
        foreach (var presence in join.Presences)
            if (presence.SessionId != session.Id) session.Enqueue(Frames.Presence(documentId, presence, tags.For(presence.ClientId)));
        sessions.Add(member);
    }

    public void Detach(SessionDocument member) => sessions.Remove(member);

    /// <summary>
    /// The ops between <see cref="LastRev"/> and <paramref name="rev"/> are gone from the document's log (compacted):
    /// detaches every session (the caller closes them, so they rejoin and get the text) and continues from
    /// <paramref name="rev"/>.
    /// </summary>
    public List<SessionDocument> SkipTo(long rev)
    {
        var dropped = new List<SessionDocument>(sessions);
        sessions.Clear();
        recent.Clear();
        recentWeight = 0;
        LastRev = Math.Max(LastRev, rev);
        return dropped;
    }

    /// <summary>
    /// A resend committed earlier at <paramref name="rev"/>: answered now if the session was already sent that revision;
    /// otherwise its delivery will be the ack. Returns the revision to fetch up to when the feed has not reached it.
    /// </summary>
    public long? Duplicate(SessionDocument member, long seq, long rev)
    {
        if (!member.IsUnanswered(seq)) return null;
        if (rev <= member.Rev)
        {
            member.Answer(seq);
            member.Session.Enqueue(Frames.Ack(documentId, seq, rev));
            return null;
        }
        return rev > LastRev ? rev : null;
    }

    public void Presence(PresenceState? presence, string? leftSessionId)
    {
        var sender = presence?.SessionId ?? leftSessionId;
        byte[]? frame = null;
        foreach (var member in sessions)
        {
            if (member.Session.Id == sender) continue;
            frame ??= presence is { } p ? Frames.Presence(documentId, p, tags.For(p.ClientId)) : Frames.PresenceLeft(documentId, leftSessionId!);
            member.Session.Enqueue(frame);
        }
    }

    private void Publish(CommittedOp op)
    {
        var frame = Frames.Op(documentId, op, tags.For(op.ClientId));
        LastRev = op.Rev;
        recent.Enqueue((op, frame));
        recentWeight += Weight(op, frame);
        while (recent.Count > 0 && (recent.Count > recentCapacity || recentWeight > recentBytes))
        {
            var (old, oldFrame) = recent.Dequeue();
            recentWeight -= Weight(old, oldFrame);
        }
        foreach (var member in sessions) Deliver(member, op, frame);
    }

    private void Deliver(SessionDocument member, CommittedOp op, byte[] opFrame)
    {
        if (op.Rev != member.Rev + 1) return;
        member.Rev = op.Rev;
        if (op.ClientId != member.Session.ClientKey)
        {
            member.Session.Enqueue(opFrame);
            return;
        }
        // The session's own op (or one its client sent on an earlier connection): the ack, answering that submission.
        member.Answer(op.Seq);
        member.Session.Enqueue(Frames.Ack(documentId, op.Seq, op.Rev));
    }
}
