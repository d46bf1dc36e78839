using System.Diagnostics;
using System.Threading.Channels;
using Collab.Contracts;
using Collab.Web.Access;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Microsoft.Extensions.Logging;

namespace Collab.Web.Fanout;

/// <summary>
/// One document's stream on this host: the shell around <see cref="FeedSequencer"/>, which decides what each session is
/// sent. A single loop feeds it, in order, the grain's notifications, session joins and leaves, presence and catch-up
/// results, and performs the fetches it asks for: notifications are best effort, a gap is filled from the grain.
/// </summary>
internal sealed partial class DocumentFeed
{
    private readonly IFeedHost hub;
    private readonly IDocumentGrain grain;
    private readonly ILogger logger;
    private readonly Channel<object> inbox = Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });
    private readonly FeedSequencer sequencer;
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // The newest link generations this feed has seen (only the loop touches it).
    private DocumentAccess? latestAccess;
    // The last full text handed to joiners, by revision: joiners at the same revision share one string (in client mode
    // each join result is its own copy) while any of them is still being sent it. Weak: it never keeps a text alive.
    private (long Rev, WeakReference<string> Text)? lastText;

    public DocumentFeed(IFeedHost hub, string documentId, IDocumentGrain grain, ILogger logger)
    {
        this.hub = hub;
        DocumentId = documentId;
        this.grain = grain;
        this.logger = logger;
        sequencer = new FeedSequencer(documentId, hub.Tags);
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

    public void Post(CommittedOp[] ops) => inbox.Writer.TryWrite(new CommittedItem(ops, Stopwatch.GetTimestamp()));

    public void PostPresence(PresenceState? presence, string? leftSessionId) => inbox.Writer.TryWrite(new PresenceItem(presence, leftSessionId));

    /// <summary>The document's links were rotated: sessions that joined through a revoked one are closed (4403).</summary>
    public void PostAccess(DocumentAccess access) => inbox.Writer.TryWrite(new AccessItem(access));

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
            sequencer.Subscribed(await grain.Subscribe(hub.HostId, hub.Reference).WaitAsync(CallTimeout));
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
                // Sessions stay where they are. The document may have moved (its silo died or froze, and the new activation
                // has no subscribers yet): subscribe again soon, backing off, rather than wait for the periodic renewal.
                LogFeedError(logger, DocumentId, e);
                ScheduleRenewal();
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
            case CommittedItem notified:
                if (sequencer.Offer(notified.Ops) is { } gapTo) await CatchUpAsync(gapTo);
                FrontEndMetrics.FanoutDuration.Record(Stopwatch.GetElapsedTime(notified.PostedAt).TotalSeconds);
                break;
            case AttachItem attach:
                await AttachCoreAsync(attach);
                break;
            case DetachItem detach:
                sequencer.Detach(detach.Member);
                detach.Done.TrySetResult();
                break;
            case PresenceItem presence:
                sequencer.Presence(presence.Presence, presence.LeftSessionId);
                break;
            case DuplicateItem duplicate:
                if (sequencer.Duplicate(duplicate.Member, duplicate.Seq, duplicate.Rev) is { } upTo) await CatchUpAsync(upTo);
                break;
            case EnsureItem ensure when ensure.Rev > sequencer.LastRev:
                if (ensure.Final) await CatchUpAsync(ensure.Rev);
                else _ = RetryLaterAsync(ensure with { Final = true });
                break;
            case AccessItem changed:
                Revoke(changed.Access);
                break;
            case RenewItem:
                var committed = await grain.Subscribe(hub.HostId, hub.Reference).WaitAsync(CallTimeout);
                if (committed > sequencer.LastRev) await CatchUpAsync(committed);
                retryDelayMs = 0;
                // A lost rotation notice still takes effect, at the next renewal at the latest.
                if (sequencer.Sessions.Any(m => m.Grant.Via is not null)) Revoke(await grain.GetAccess().WaitAsync(CallTimeout));
                break;
        }
    }

    /// <summary>
    /// How long the feed waits for the document before it gives up on a call and retries it (every call of the feed is
    /// idempotent): in client mode a frozen silo holds calls until the grain call timeout (10 s), and an ack that a lost
    /// notification left to a catch-up must not wait that long. Catch-ups are bounded in bytes, so an honest one takes far less.
    /// </summary>
    private TimeSpan CallTimeout => hub.CallTimeout;

    // Delay of the next renewal after a failure (only the loop touches it): 250 ms, doubling to 2 s (so a feed is back within
    // 2 s of its document), 0 once one succeeded.
    private int retryDelayMs;
    private int renewalScheduled;

    private void ScheduleRenewal()
    {
        if (Interlocked.Exchange(ref renewalScheduled, 1) == 1) return;
        retryDelayMs = Math.Clamp(retryDelayMs * 2, 250, 2_000);
        _ = RenewAfterAsync(retryDelayMs);
    }

    private async Task RenewAfterAsync(int delayMs)
    {
        await Task.Delay(delayMs);
        Volatile.Write(ref renewalScheduled, 0);
        inbox.Writer.TryWrite(RenewItem.Instance);
    }

    /// <summary>The notification usually arrives within a moment of the submit's reply; fetch only if it did not.</summary>
    private async Task RetryLaterAsync(EnsureItem item)
    {
        await Task.Delay(50);
        inbox.Writer.TryWrite(item);
    }

    private async Task AttachCoreAsync(AttachItem attach)
    {
        var join = SharedText(attach.Join);
        if (sequencer.LastRev < join.Rev) await CatchUpAsync(join.Rev);
        // Fetch what the joiner missed before queueing anything, so a failed fetch never leaves it half joined.
        var missed = sequencer.MissedFromRecent(join.Rev) ?? await FetchMissedAsync(join.Rev);
        sequencer.Attach(attach.Member, join, missed);
        attach.Done.TrySetResult();
        // A rotation this loop handled between the session's join and now must not miss it.
        if (latestAccess is not null) Revoke(latestAccess);
    }

    /// <summary>The text at a committed revision is the same for every joiner: keep one copy of it.</summary>
    private JoinResult SharedText(JoinResult join)
    {
        if (join.Text is not { } text) return join;
        if (lastText is { } last && last.Rev == join.Rev && last.Text.TryGetTarget(out var shared) && shared.Length == text.Length)
            return join with { Text = shared };
        lastText = (join.Rev, new WeakReference<string>(text));
        return join;
    }

    /// <summary>The ops after <paramref name="rev"/> up to the feed's revision, from the grain (older than the recent frames).</summary>
    private async Task<List<(CommittedOp Op, byte[] Frame)>> FetchMissedAsync(long rev)
    {
        var missed = new List<(CommittedOp, byte[])>();
        var lastRev = sequencer.LastRev;
        while (rev < lastRev)
        {
            var ops = await grain.GetOps(rev, (int)Math.Min(lastRev - rev, 10_000)).WaitAsync(CallTimeout);
            // Never attach a joiner with a hole in its history: the join fails (internal) and the client joins again.
            if (ops.Length == 0) throw new DocumentUnavailableException($"Document '{DocumentId}' no longer holds the ops after rev {rev} as ops.");
            foreach (var op in ops)
            {
                if (op.Rev != rev + 1 || op.Rev > lastRev) continue;
                missed.Add((op, Frames.Op(DocumentId, op, hub.Tags.For(op.ClientId))));
                rev = op.Rev;
            }
        }
        return missed;
    }

    private void SkipTo(long rev)
    {
        var from = sequencer.LastRev;
        var dropped = sequencer.SkipTo(rev);
        LogSkipped(logger, DocumentId, from, rev, dropped.Count);
        foreach (var member in dropped)
            member.Session.Close(CloseCodes.SendQueueOverflow, "this host fell behind ops the document no longer keeps; reconnect and resume with join+rev");
    }

    /// <summary>Closes every session whose grant the document's current generations no longer honour.</summary>
    private void Revoke(DocumentAccess? access)
    {
        if (access is null) return;
        // Generations only grow: notices arriving out of order never bring a revoked link back.
        latestAccess = latestAccess is null ? access : new DocumentAccess(
            Math.Max(access.OwnerGeneration, latestAccess.OwnerGeneration),
            Math.Max(access.EditGeneration, latestAccess.EditGeneration),
            Math.Max(access.ViewGeneration, latestAccess.ViewGeneration));
        foreach (var member in sequencer.Sessions)
        {
            if (member.Grant.Via is null || AccessPolicy.StillValid(member.Grant, latestAccess)) continue;
            if (member.Session.Close(CloseCodes.Revoked, $"your {member.AccessLabel} link to '{DocumentId}' was revoked by its owner; ask for a new link"))
                LogRevoked(logger, DocumentId, member.Session.Id);
        }
    }

    private async Task CatchUpAsync(long toRev)
    {
        while (sequencer.LastRev < toRev)
        {
            LogCatchingUp(logger, DocumentId, sequencer.LastRev, toRev);
            var ops = await grain.GetOps(sequencer.LastRev, (int)Math.Min(toRev - sequencer.LastRev, 10_000)).WaitAsync(CallTimeout);
            if (ops.Length == 0)
            {
                // Committed ops that the grain cannot return any more (compaction folded them while this host missed
                // them): the sessions here cannot be brought up to date op by op; they reconnect and get the text.
                SkipTo(toRev);
                return;
            }
            var before = sequencer.LastRev;
            sequencer.Offer(ops);
            if (sequencer.LastRev == before) return; // the grain answered nothing that follows on: try again on the next notification
        }
    }

    private sealed record CommittedItem(CommittedOp[] Ops, long PostedAt);
    private sealed record AttachItem(SessionDocument Member, JoinResult Join, TaskCompletionSource Done);
    private sealed record DetachItem(SessionDocument Member, TaskCompletionSource Done);
    private sealed record PresenceItem(PresenceState? Presence, string? LeftSessionId);
    private sealed record EnsureItem(long Rev, bool Final);
    private sealed record AccessItem(DocumentAccess Access);
    private sealed record DuplicateItem(SessionDocument Member, long Seq, long Rev);
    private sealed class RenewItem
    {
        public static readonly RenewItem Instance = new();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed of document {DocumentId} failed; sessions catch up on the next notification")]
    private static partial void LogFeedError(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Feed of document {DocumentId} missed revs {FromRev}–{ToRev}, which the document no longer keeps as ops; {Sessions} sessions reconnect to get the text")]
    private static partial void LogSkipped(ILogger logger, string documentId, long fromRev, long toRev, int sessions);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Feed of document {DocumentId} catching up from rev {FromRev} to {ToRev}")]
    private static partial void LogCatchingUp(ILogger logger, string documentId, long fromRev, long toRev);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId}: session {SessionId} joined through a revoked link; closing with 4403")]
    private static partial void LogRevoked(ILogger logger, string documentId, string sessionId);
}
