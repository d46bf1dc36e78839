using System.Threading.Channels;
using Collab.Contracts;
using Collab.Web.Protocol;
using Microsoft.Extensions.Logging;

namespace Collab.Web.Fanout;

/// <summary>
/// One document's stream on this host. A single loop applies, in order, the grain's notifications, session joins and
/// leaves, presence and catch-up requests, so every session of the document is sent each revision exactly once, in
/// revision order, without gaps. Notifications are best effort: a gap is filled from the grain before going on.
/// </summary>
internal sealed partial class DocumentFeed
{
    private const int RecentCapacity = 512;

    private readonly IFeedHost hub;
    private readonly IDocumentGrain grain;
    private readonly ILogger logger;
    private readonly Channel<object> inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly List<SessionDocument> sessions = [];
    private readonly Queue<(CommittedOp Op, byte[] Frame)> recent = new();
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long lastRev = -1;

    public DocumentFeed(IFeedHost hub, string documentId, IDocumentGrain grain, ILogger logger)
    {
        this.hub = hub;
        DocumentId = documentId;
        this.grain = grain;
        this.logger = logger;
    }

    /// <summary>
    /// Subscribes and runs the loop. Called once the feed is registered (never from the constructor): a subscribe that
    /// fails at once must find the feed registered to remove it, not leave a dead feed behind.
    /// </summary>
    public void Start(Task previousUnsubscribe)
    {
        if (Completion is not null) throw new InvalidOperationException("The feed is already running.");
        Completion = RunAsync(previousUnsubscribe);
    }

    public string DocumentId { get; }

    /// <summary>Sessions holding this feed (guarded by the hub's lock).</summary>
    public int References { get; set; }

    /// <summary>When the last session released the feed (guarded by the hub's lock).</summary>
    public DateTime IdleSince { get; set; }

    /// <summary>Completes when the loop ended (and the host unsubscribed); null until <see cref="Start"/>.</summary>
    public Task? Completion { get; private set; }

    /// <summary>Completes once the host is subscribed to the document.</summary>
    public Task Ready => ready.Task;

    public void Post(CommittedOp[] ops) => inbox.Writer.TryWrite(ops);

    public void PostPresence(PresenceState? presence, string? leftSessionId) => inbox.Writer.TryWrite(new PresenceItem(presence, leftSessionId));

    /// <summary>Renews the subscription and catches up if a notification was missed.</summary>
    public void PostRenew() => inbox.Writer.TryWrite(RenewItem.Instance);

    /// <summary>
    /// Acknowledges a resent op committed earlier at <paramref name="rev"/>: at once if the session was already sent that
    /// revision (or joined after it) before this resend, otherwise the revision's delivery in stream order is the ack.
    /// </summary>
    public void AckDuplicate(SessionDocument member, long seq, long rev) => inbox.Writer.TryWrite(new DuplicateItem(member, seq, rev));

    /// <summary>Makes sure revision <paramref name="rev"/> reaches the sessions even if its notification is lost.</summary>
    public void EnsureRev(long rev) => inbox.Writer.TryWrite(new EnsureItem(rev, Final: false));

    /// <summary>Sends <c>joined</c>, then whatever was committed since <paramref name="join"/>, then presences; completes once the session is subscribed.</summary>
    public Task AttachAsync(SessionDocument member, JoinResult join)
    {
        var item = new AttachItem(member, join, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!inbox.Writer.TryWrite(item)) item.Done.SetException(new InvalidOperationException("The document feed is closed."));
        return item.Done.Task;
    }

    /// <summary>Stops sending to the session; completes once no more frames of this document will be queued for it.</summary>
    public Task DetachAsync(SessionDocument member)
    {
        var item = new DetachItem(member, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!inbox.Writer.TryWrite(item)) item.Done.TrySetResult();
        return item.Done.Task;
    }

    public void Complete() => inbox.Writer.TryComplete();

    private async Task RunAsync(Task previousUnsubscribe)
    {
        await previousUnsubscribe.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            lastRev = await grain.Subscribe(hub.HostId, hub.Reference);
            ready.TrySetResult();
        }
        catch (Exception e)
        {
            // No loop will run: close the inbox so later attaches fail and detaches complete at once, and answer what
            // was queued meanwhile, so no join waits forever on a feed that never started.
            inbox.Writer.TryComplete();
            hub.Forget(this);
            ready.TrySetException(e);
            while (inbox.Reader.TryRead(out var item))
            {
                if (item is AttachItem attach) attach.Done.TrySetException(new InvalidOperationException("The document feed could not subscribe.", e));
                else if (item is DetachItem detach) detach.Done.TrySetResult();
            }
            return;
        }

        await foreach (var item in inbox.Reader.ReadAllAsync())
        {
            try
            {
                await HandleAsync(item);
            }
            catch (Exception e) when (item is AttachItem attach)
            {
                attach.Done.TrySetException(e);
            }
            catch (Exception e)
            {
                // Sessions stay where they are; the next notification or renewal finds the gap and fills it.
                LogFeedError(logger, DocumentId, e);
            }
        }
        try
        {
            await grain.Unsubscribe(hub.HostId);
        }
        catch (Exception e)
        {
            LogFeedError(logger, DocumentId, e);
        }
    }

    private async Task HandleAsync(object item)
    {
        switch (item)
        {
            case CommittedOp[] ops:
                foreach (var op in ops)
                {
                    if (op.Rev <= lastRev) continue;
                    if (op.Rev > lastRev + 1) await CatchUpAsync(op.Rev - 1);
                    if (op.Rev == lastRev + 1) Publish(op);
                }
                break;
            case AttachItem attach:
                await AttachCoreAsync(attach);
                break;
            case DetachItem detach:
                sessions.Remove(detach.Member);
                detach.Done.TrySetResult();
                break;
            case PresenceItem presence:
                PublishPresence(presence);
                break;
            case DuplicateItem { Member: var member } duplicate when member.IsUnanswered(duplicate.Seq):
                // The stream has not answered this resend: if the revision was already sent, answer now; otherwise its
                // delivery (as an ack) will.
                if (duplicate.Rev <= member.Rev)
                {
                    member.Answer(duplicate.Seq);
                    member.Session.Enqueue(Frames.Ack(DocumentId, duplicate.Seq, duplicate.Rev));
                }
                else if (duplicate.Rev > lastRev)
                {
                    await CatchUpAsync(duplicate.Rev);
                }
                break;
            case EnsureItem ensure when ensure.Rev > lastRev:
                if (ensure.Final) await CatchUpAsync(ensure.Rev);
                else _ = RetryLaterAsync(ensure with { Final = true });
                break;
            case RenewItem:
                var committed = await grain.Subscribe(hub.HostId, hub.Reference);
                if (committed > lastRev) await CatchUpAsync(committed);
                break;
        }
    }

    /// <summary>The notification usually arrives within a moment of the submit's reply; fetch only if it did not.</summary>
    private async Task RetryLaterAsync(EnsureItem item)
    {
        await Task.Delay(50);
        inbox.Writer.TryWrite(item);
    }

    private async Task AttachCoreAsync(AttachItem attach)
    {
        var member = attach.Member;
        var join = attach.Join;
        if (lastRev < join.Rev) await CatchUpAsync(join.Rev);
        // Fetch what the joiner missed before queueing anything, so a failed fetch never leaves it half joined.
        var missed = lastRev > join.Rev ? await MissedSinceAsync(join.Rev) : [];

        member.Rev = join.Rev;
        if (!member.Session.Enqueue(Frames.Joined(DocumentId, join)))
        {
            attach.Done.TrySetResult();
            return;
        }
        foreach (var (op, frame) in missed) Deliver(member, op, frame);
        foreach (var presence in join.Presences)
            if (presence.SessionId != member.Session.Id) member.Session.Enqueue(Frames.Presence(DocumentId, presence));
        sessions.Add(member);
        attach.Done.TrySetResult();
    }

    /// <summary>The ops after <paramref name="rev"/> up to the feed's revision, from the recent frames or the grain.</summary>
    private async Task<List<(CommittedOp Op, byte[] Frame)>> MissedSinceAsync(long rev)
    {
        if (recent.Count > 0 && recent.Peek().Op.Rev <= rev + 1) return [.. recent.Where(r => r.Op.Rev > rev)];
        var missed = new List<(CommittedOp, byte[])>();
        while (rev < lastRev)
        {
            var ops = await grain.GetOps(rev, (int)Math.Min(lastRev - rev, 10_000));
            if (ops.Length == 0) break;
            foreach (var op in ops)
            {
                if (op.Rev != rev + 1 || op.Rev > lastRev) continue;
                missed.Add((op, Frames.Op(DocumentId, op)));
                rev = op.Rev;
            }
        }
        return missed;
    }

    private async Task CatchUpAsync(long toRev)
    {
        while (lastRev < toRev)
        {
            LogCatchingUp(logger, DocumentId, lastRev, toRev);
            var ops = await grain.GetOps(lastRev, (int)Math.Min(toRev - lastRev, 10_000));
            if (ops.Length == 0) return;
            foreach (var op in ops)
                if (op.Rev == lastRev + 1) Publish(op);
        }
    }

    private void Publish(CommittedOp op)
    {
        var frame = Frames.Op(DocumentId, op);
        lastRev = op.Rev;
        recent.Enqueue((op, frame));
        if (recent.Count > RecentCapacity) recent.Dequeue();
        foreach (var member in sessions) Deliver(member, op, frame);
    }

    private void Deliver(SessionDocument member, CommittedOp op, byte[] opFrame)
    {
        if (op.Rev != member.Rev + 1) return;
        member.Rev = op.Rev;
        if (op.ClientId != member.Session.ClientId)
        {
            member.Session.Enqueue(opFrame);
            return;
        }
        // The session's own op (or one its client sent on an earlier connection): the ack, answering that submission.
        member.Answer(op.Seq);
        member.Session.Enqueue(Frames.Ack(DocumentId, op.Seq, op.Rev));
    }

    private void PublishPresence(PresenceItem item)
    {
        var sender = item.Presence?.SessionId ?? item.LeftSessionId;
        byte[]? frame = null;
        foreach (var member in sessions)
        {
            if (member.Session.Id == sender) continue;
            frame ??= item.Presence is { } p ? Frames.Presence(DocumentId, p) : Frames.PresenceLeft(DocumentId, item.LeftSessionId!);
            member.Session.Enqueue(frame);
        }
    }

    private sealed record AttachItem(SessionDocument Member, JoinResult Join, TaskCompletionSource Done);
    private sealed record DetachItem(SessionDocument Member, TaskCompletionSource Done);
    private sealed record PresenceItem(PresenceState? Presence, string? LeftSessionId);
    private sealed record EnsureItem(long Rev, bool Final);
    private sealed record DuplicateItem(SessionDocument Member, long Seq, long Rev);
    private sealed class RenewItem
    {
        public static readonly RenewItem Instance = new();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed of document {DocumentId} failed; sessions catch up on the next notification")]
    private static partial void LogFeedError(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed of document {DocumentId} catching up from rev {FromRev} to {ToRev}")]
    private static partial void LogCatchingUp(ILogger logger, string documentId, long fromRev, long toRev);
}
