using Collab.Contracts;
using Collab.Grains.Compaction;
using Collab.Grains.Core;
using Collab.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Collab.Grains;

/// <summary>
/// The single authority of one document: a thin shell around <see cref="DocumentCore"/>, which decides everything. The
/// grain performs the store writes the core asks for (one append in flight; snapshots beside it, never in its way),
/// reports their outcome, answers the submits the core releases and notifies the subscribed hosts. Calls interleave only
/// at awaits, so the core sees one input at a time, in the order they reach this activation.
/// </summary>
[Reentrant]
public sealed partial class DocumentGrain : Grain, IDocumentGrain
{
    private readonly IDocumentStore store;
    private readonly DocumentGrainOptions options;
    private readonly CompactionOptions compaction;
    private readonly ILogger<DocumentGrain> logger;
    private readonly HostSubscriptions subscriptions = new();
    private readonly ClientHolders holders = new();
    private readonly Dictionary<long, TaskCompletionSource<SubmitResult>> waiting = [];

    private DocumentCore core = null!;
    private DocumentAccess? access;
    private DateTimeOffset? accessCreatedAt;
    private Task? committing;
    private Task? snapshotting;
    private DateTime activatedAt;
    private long writerEpoch;

    public DocumentGrain(IDocumentStore store, IOptions<DocumentGrainOptions> options, IOptions<CompactionOptions> compaction, ILogger<DocumentGrain> logger)
    {
        this.store = store;
        this.options = options.Value;
        this.compaction = compaction.Value;
        this.logger = logger;
    }

    private string DocumentId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        activatedAt = DateTime.UtcNow;
        StoredDocument stored;
        StoredAccess? record;
        try
        {
            var loadingAccess = store.LoadAccessAsync(DocumentId, cancellationToken);
            // Claim, then load: whatever an earlier activation appended before the claim is in the load, and it can append
            // nothing after it (a frozen silo's activation that wakes up is fenced). A fresh name is not claimed (epoch 0).
            writerEpoch = await store.ClaimWriterAsync(DocumentId, cancellationToken);
            stored = await store.LoadAsync(DocumentId, cancellationToken);
            record = await loadingAccess;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw StoreUnavailable(e, "load");
        }
        if (record is not null)
        {
            access = new DocumentAccess(record.OwnerGeneration, record.EditGeneration, record.ViewGeneration);
            accessCreatedAt = record.CreatedAt;
        }
        core = new DocumentCore(stored, options);
        DocumentMetrics.Active.Add(1);
        var expiry = options.SubscriptionExpiry;
        this.RegisterGrainTimer(ExpireSubscriptionsAsync, expiry / 2, expiry / 2);
        LogActivated(logger, DocumentId, core.CommittedRev, stored.Tail.Count, writerEpoch);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        const ConfigureAwaitOptions quietly = ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext;
        if (core is null) return; // the activation failed to load: nothing to write
        DocumentMetrics.Active.Add(-1);
        if (committing is not null) await committing.WaitAsync(cancellationToken).ConfigureAwait(quietly);
        if (snapshotting is not null) await snapshotting.WaitAsync(cancellationToken).ConfigureAwait(quietly);
        if (core.TakeSnapshot(out var checkpoint, force: true) is { } snapshot)
            await SaveSnapshotAsync(snapshot, checkpoint, compactAfter: false).WaitAsync(cancellationToken).ConfigureAwait(quietly);
    }

    public Task<SubmitResult> Submit(SubmitRequest request)
    {
        DocumentMetrics.TransformDepth.Record(Math.Max(0, core.Rev - request.BaseRev));
        var decision = core.Submit(request, TokenBucket.Now);
        if (decision.Ahead) return AheadAsync(request, decision.Result!);
        if (decision.Result is { } now)
        {
            if (!now.IsSuccess) DocumentMetrics.SubmitsRefused.Add(1, new KeyValuePair<string, object?>("collab.status", now.Status.ToString()));
            return Task.FromResult(now);
        }
        var answer = new TaskCompletionSource<SubmitResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiting.Add(decision.Ticket, answer);
        StartWrite();
        return answer.Task;
    }

    public async Task<JoinResult> Join(long? sinceRev)
    {
        ThrowIfFailed();
        if (sinceRev > core.Rev && await SupersededAsync() is not false)
        {
            // The joiner saw revisions another activation wrote (or the store cannot say): this one may be stale; the joiner retries.
            ThrowIfFailed();
            throw new DocumentUnavailableException($"Document '{DocumentId}' could not check a revision ahead of it; retry shortly.");
        }
        var presences = subscriptions.Presences();
        var committedRev = core.CommittedRev;
        if (sinceRev is { } since && since >= 0 && since <= committedRev && committedRev - since <= options.MaxCatchUpOps)
        {
            // Ops only while they stay small: beyond MaxCatchUpBytes the text is the cheaper (and bounded) answer.
            var ops = await ReadCommittedAsync(since, committedRev, options.MaxCatchUpOps, options.MaxCatchUpBytes);
            if (since + ops.Length == committedRev) return new JoinResult(committedRev, null, since, ops, presences, access);
        }
        return new JoinResult(core.CommittedRev, core.CommittedText, null, null, presences, access);
    }

    public Task<CommittedOp[]> GetOps(long afterRev, int maxCount)
    {
        ThrowIfFailed();
        return ReadCommittedAsync(Math.Max(afterRev, 0), core.CommittedRev, Math.Clamp(maxCount, 1, options.MaxCatchUpOps), options.MaxCatchUpBytes);
    }

    public Task<DocumentState> GetState()
    {
        ThrowIfFailed();
        return Task.FromResult(new DocumentState(core.CommittedRev, core.CommittedText));
    }

    public Task<DocumentStatus> GetStatus() => Task.FromResult(new DocumentStatus(
        core.CommittedRev, core.SnapshotRev, core.Tentative, this.RuntimeIdentity, activatedAt,
        subscriptions.Observers.Length, subscriptions.PresenceCount));

    public Task<long> Subscribe(string hostId, IDocumentObserver observer)
    {
        subscriptions.Renew(hostId, observer, DateTime.UtcNow + options.SubscriptionExpiry);
        return Task.FromResult(core.CommittedRev);
    }

    public Task Unsubscribe(string hostId)
    {
        holders.ReleaseHost(hostId);
        foreach (var sessionId in subscriptions.Remove(hostId)) NotifyPresence(null, sessionId);
        return Task.CompletedTask;
    }

    public Task SetPresence(string hostId, PresenceState presence)
    {
        subscriptions.SetPresence(hostId, presence);
        NotifyPresence(presence, null);
        return Task.CompletedTask;
    }

    public Task<bool> ClaimClient(ClientClaim claim) => Task.FromResult(holders.Claim(claim));

    public Task<DocumentAccess?> GetAccess() => Task.FromResult(access);

    public async Task<DocumentAccess?> CreateAccess(bool claimExisting)
    {
        ThrowIfFailed();
        if (access is not null || (core.CommittedRev > 0 && !claimExisting)) return null;
        var created = new DocumentAccess(1, 1, 1);
        var at = DateTimeOffset.UtcNow;
        // Set before the write so a second create racing this one (calls interleave at awaits) is refused.
        access = created;
        try
        {
            await store.SaveAccessAsync(DocumentId, ToStored(created, at));
        }
        catch (Exception e)
        {
            access = null;
            throw StoreUnavailable(e, "save the access record of");
        }
        accessCreatedAt = at;
        LogAccessCreated(logger, DocumentId, core.CommittedRev);
        return created;
    }

    public async Task<DocumentAccess?> RotateAccess(LinkKind kind)
    {
        ThrowIfFailed();
        if (access is null) return null;
        // In memory first: old links stop working at once, even if the write below fails (fail closed).
        var rotated = access.Rotated(kind);
        access = rotated;
        try
        {
            await store.SaveAccessAsync(DocumentId, ToStored(rotated, accessCreatedAt ?? DateTimeOffset.UtcNow));
        }
        catch (Exception e)
        {
            throw StoreUnavailable(e, "save the access record of");
        }
        // A rotation racing this one may have bumped further meanwhile: announce the newest.
        var current = access;
        LogAccessRotated(logger, DocumentId, kind, current.Generation(kind));
        foreach (var observer in subscriptions.Observers)
        {
            try
            {
                _ = observer.OnAccessChanged(DocumentId, current);
            }
            catch (Exception e)
            {
                LogNotifyFailed(logger, DocumentId, e);
            }
        }
        return current;
    }

    private static StoredAccess ToStored(DocumentAccess access, DateTimeOffset createdAt) =>
        new(access.OwnerGeneration, access.EditGeneration, access.ViewGeneration, createdAt);

    public Task RemovePresence(string sessionId)
    {
        holders.Release(sessionId);
        if (subscriptions.RemovePresence(sessionId)) NotifyPresence(null, sessionId);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A base ahead of this activation: the client saw revisions it does not have. When the store holds them another
    /// activation wrote them and this one is stale: it stops, and the client (answered <c>Unavailable</c>) resends the
    /// same seq to a fresh activation that loads them. Otherwise the client is wrong and <paramref name="refusal"/> stands.
    /// </summary>
    private async Task<SubmitResult> AheadAsync(SubmitRequest request, SubmitResult refusal)
    {
        switch (await SupersededAsync())
        {
            case true:
                return core.Submit(request, TokenBucket.Now).Result!; // a stopped core answers Unavailable at once
            case null:
                // Unknown (the store did not answer): the client may well be right, so not a refusal it cannot get past.
                return new SubmitResult(SubmitStatus.Unavailable, core.CommittedRev, "the document could not check a revision ahead of it; retry the same seq shortly.");
            default:
                DocumentMetrics.SubmitsRefused.Add(1, new KeyValuePair<string, object?>("collab.status", refusal.Status.ToString()));
                return refusal;
        }
    }

    /// <summary>
    /// Asks the store whether it is ahead of everything this activation assigned; if so this activation stops serving
    /// (every waiting submit answered <c>Unavailable</c>) and deactivates. A store that cannot answer changes nothing
    /// (null: unknown).
    /// </summary>
    private async Task<bool?> SupersededAsync()
    {
        long stored;
        try
        {
            stored = await store.GetRevisionAsync(DocumentId);
        }
        catch (Exception e)
        {
            LogStoreCheckFailed(logger, DocumentId, e);
            return null;
        }
        if (stored <= core.Rev) return core.Failure is not null;
        LogSuperseded(logger, DocumentId, core.Rev, stored);
        Answer(core.Superseded(new InvalidOperationException(
            $"Document '{DocumentId}': the store is at rev {stored}, ahead of this activation (at {core.Rev}); another activation wrote it.")));
        DeactivateOnIdle();
        return true;
    }

    /// <summary>Starts the write loop if the core has a write to do and none is in flight (the core is the only judge of that).</summary>
    private void StartWrite()
    {
        if (core.TakeWrite() is { } write) committing = WriteLoopAsync(write);
    }

    private async Task WriteLoopAsync(StoreWrite write)
    {
        for (StoreWrite? next = write; next is not null; next = core.TakeWrite())
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            try
            {
                await store.AppendAsync(DocumentId, ToStored(next.Ops), writerEpoch);
            }
            catch (Exception e)
            {
                if (e is RevisionConflictException or WriterFencedException) LogFenced(logger, DocumentId, core.CommittedRev, e);
                else LogCommitFailed(logger, DocumentId, core.CommittedRev, e);
                Answer(core.WriteFailed(e));
                DeactivateOnIdle();
                return;
            }
            DocumentMetrics.CommitDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            DocumentMetrics.CommitBatchOps.Record(next.Ops.Count);
            DocumentMetrics.OpsCommitted.Add(next.Ops.Count);
            var outcome = core.WriteSucceeded();
            NotifyCommitted([.. outcome.Ops]);
            Answer(outcome.Answers);
            LogCommitted(logger, DocumentId, outcome.Ops.Count, core.CommittedRev);
            if (core.TakeSnapshot(out var checkpoint) is { } snapshot) snapshotting = SaveSnapshotAsync(snapshot, checkpoint, compactAfter: true);
        }
    }

    private void Answer(IReadOnlyList<Answer> answers)
    {
        foreach (var answer in answers)
        {
            if (!answer.Result.IsSuccess) DocumentMetrics.SubmitsRefused.Add(1, new KeyValuePair<string, object?>("collab.status", answer.Result.Status.ToString()));
            if (waiting.Remove(answer.Ticket, out var submit)) submit.TrySetResult(answer.Result);
        }
    }

    /// <summary>
    /// Runs beside the write loop: commits never wait for a snapshot. After a new checkpoint the document's log is
    /// compacted (ops beyond the retention window or the byte budget are folded into it), still beside the writes.
    /// </summary>
    private async Task SaveSnapshotAsync(DocumentSnapshot snapshot, bool checkpoint, bool compactAfter)
    {
        try
        {
            await store.SaveSnapshotAsync(DocumentId, snapshot, checkpoint);
            core.SnapshotSucceeded();
        }
        catch (Exception e)
        {
            core.SnapshotFailed();
            LogSnapshotFailed(logger, DocumentId, snapshot.Rev, e);
            return;
        }
        if (!checkpoint || !compactAfter || !compaction.Enabled) return;
        try
        {
            var result = await store.CompactAsync(DocumentId, compaction.Policy(DateTimeOffset.UtcNow));
            if (result.OpsDeleted > 0) LogCompacted(logger, DocumentId, result.OpsDeleted, result.FoldedThroughRev);
        }
        catch (Exception e)
        {
            // Nothing is lost: the ops stay until the next checkpoint or sweep folds them.
            LogCompactionFailed(logger, DocumentId, e);
        }
    }

    /// <summary>
    /// The committed ops after <paramref name="afterRev"/> up to <paramref name="upTo"/>: at most
    /// <paramref name="maxCount"/>, and no more than <paramref name="maxBytes"/> on the wire (always at least one op).
    /// The store is read in small batches so a range of huge ops never sits in memory at once.
    /// </summary>
    private async Task<CommittedOp[]> ReadCommittedAsync(long afterRev, long upTo, int maxCount, long maxBytes)
    {
        var result = new List<CommittedOp>();
        long bytes = 0;
        if (core.CommittedOpsInMemory(afterRev, maxCount) is { } inMemory)
        {
            foreach (var op in inMemory)
                if (!Take(op)) break;
            return [.. result];
        }
        var next = afterRev;
        while (next < upTo && result.Count < maxCount)
        {
            IReadOnlyList<StoredOp> stored;
            try
            {
                stored = await store.ReadOpsAsync(DocumentId, next, (int)Math.Min(Math.Min(StoreBatch, maxCount - result.Count), upTo - next));
            }
            catch (Exception e)
            {
                throw StoreUnavailable(e, "read the ops of");
            }
            if (stored.Count == 0) break;
            foreach (var op in stored)
            {
                if (!Take(new CommittedOp(op.Rev, op.ClientId, op.Seq, Ot.TextOperation.Parse(op.Op)))) return [.. result];
                next = op.Rev;
            }
        }
        return [.. result];

        bool Take(CommittedOp op)
        {
            // Consecutive from afterRev + 1 or nothing more: a range the store no longer holds whole is not a catch-up.
            if (op.Rev != afterRev + 1 + result.Count) return false;
            var size = Ot.WireSize.Operation(op.Op) + 64;
            if (result.Count > 0 && bytes + size > maxBytes) return false;
            bytes += size;
            result.Add(op);
            return true;
        }
    }

    private const int StoreBatch = 32;

    private void NotifyCommitted(CommittedOp[] ops)
    {
        foreach (var observer in subscriptions.Observers)
        {
            try
            {
                _ = observer.OnCommitted(DocumentId, ops);
            }
            catch (Exception e)
            {
                LogNotifyFailed(logger, DocumentId, e);
            }
        }
    }

    private void NotifyPresence(PresenceState? presence, string? leftSessionId)
    {
        foreach (var observer in subscriptions.Observers)
        {
            try
            {
                _ = observer.OnPresence(DocumentId, presence, leftSessionId);
            }
            catch (Exception e)
            {
                LogNotifyFailed(logger, DocumentId, e);
            }
        }
    }

    private Task ExpireSubscriptionsAsync(CancellationToken cancellationToken)
    {
        foreach (var sessionId in subscriptions.Expire(DateTime.UtcNow)) NotifyPresence(null, sessionId);
        holders.Retain(subscriptions.IsSubscribed);
        return Task.CompletedTask;
    }

    /// <summary>
    /// A store failure as the caller sees it: <see cref="DocumentUnavailableException"/>, which crosses the grain boundary
    /// (the store's own exceptions, NpgsqlException or SqliteException, have no Orleans codec: the caller would get a
    /// CodecNotFoundException instead of a retryable error). The original goes to the log, never to the caller.
    /// </summary>
    private DocumentUnavailableException StoreUnavailable(Exception error, string what)
    {
        if (error is DocumentUnavailableException unavailable) return unavailable;
        LogStoreFailed(logger, DocumentId, what, error);
        return new DocumentUnavailableException($"Could not {what} document '{DocumentId}': its store is unavailable; retry shortly.");
    }

    private void ThrowIfFailed()
    {
        if (core.Failure is not null) throw new DocumentUnavailableException($"Document '{DocumentId}' is moving to a new activation; retry shortly.");
    }

    private static StoredOp[] ToStored(IReadOnlyList<CommittedOp> batch)
    {
        var stored = new StoredOp[batch.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var op = batch[i];
            stored[i] = new StoredOp(op.Rev, op.ClientId, op.Seq, op.Op.ToJson());
        }
        return stored;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Document {DocumentId} activated at rev {Rev} ({TailOps} ops replayed after the snapshot), writer epoch {Epoch}")]
    private static partial void LogActivated(ILogger logger, string documentId, long rev, int tailOps, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: the store is at rev {StoredRev}, ahead of this activation (at rev {Rev}); another activation wrote it, so this one stops and deactivates")]
    private static partial void LogSuperseded(ILogger logger, string documentId, long rev, long storedRev);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: could not read the stored revision to check a client ahead of this activation")]
    private static partial void LogStoreCheckFailed(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: could not {What} it: the store failed")]
    private static partial void LogStoreFailed(ILogger logger, string documentId, string what, Exception error);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Document {DocumentId} committed {Count} ops up to rev {Rev}")]
    private static partial void LogCommitted(ILogger logger, string documentId, int count, long rev);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} lost its fence at rev {Rev}: another activation claimed the document or appended first; deactivating")]
    private static partial void LogFenced(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Document {DocumentId} failed to commit after rev {Rev}; deactivating")]
    private static partial void LogCommitFailed(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed to write its snapshot at rev {Rev}")]
    private static partial void LogSnapshotFailed(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Document {DocumentId}: compaction folded {Ops} ops into the checkpoint at rev {Rev}")]
    private static partial void LogCompacted(ILogger logger, string documentId, long ops, long rev);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId}: compacting the op log failed; the ops stay until the next attempt")]
    private static partial void LogCompactionFailed(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed to notify an observer")]
    private static partial void LogNotifyFailed(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} got its access record (at rev {Rev})")]
    private static partial void LogAccessCreated(ILogger logger, string documentId, long rev);

    [LoggerMessage(Level = LogLevel.Information, Message = "Document {DocumentId} rotated its {Kind} links to generation {Generation}")]
    private static partial void LogAccessRotated(ILogger logger, string documentId, LinkKind kind, long generation);
}
