using Collab.Contracts;
using Collab.Ot;
using Collab.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace Collab.Grains;

/// <summary>
/// The single authority of one document. Submits interleave only at the commit await: validation, transform and apply
/// run without awaiting, so ops are ordered by the order they reach this activation, and every op that arrives while a
/// write is in flight joins the next write (group commit). An op is acknowledged and broadcast only once stored.
/// </summary>
[Reentrant]
public sealed partial class DocumentGrain : Grain, IDocumentGrain
{
    private readonly IDocumentStore store;
    private readonly DocumentGrainOptions options;
    private readonly ILogger<DocumentGrain> logger;
    private readonly OpWindow window = new();
    private readonly Dictionary<string, ClientMark> clients = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientMark> committedClients = new(StringComparer.Ordinal);
    private readonly HostSubscriptions subscriptions = new();
    private readonly TokenBucket rate;

    private TextBuffer text = new();
    private long rev;
    private long committedRev;
    private long snapshotRev;
    private List<CommittedOp> pending = [];
    private TaskCompletionSource nextBatch = NewBatch();
    private TaskCompletionSource? inflightBatch;
    private long inflightLastRev;
    private Task? committing;
    private bool commitLoopRunning;
    private Exception? failure;
    private DateTime activatedAt;

    public DocumentGrain(IDocumentStore store, IOptions<DocumentGrainOptions> options, ILogger<DocumentGrain> logger)
    {
        this.store = store;
        this.options = options.Value;
        this.logger = logger;
        rate = new TokenBucket(this.options.OpsPerSecond, this.options.OpsBurst);
    }

    private string DocumentId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        activatedAt = DateTime.UtcNow;
        var stored = await store.LoadAsync(DocumentId, cancellationToken);
        text = new TextBuffer(stored.Snapshot.Text);
        foreach (var (client, mark) in stored.Snapshot.Clients) clients[client] = mark;
        window.Reset(stored.Snapshot.Rev);
        foreach (var op in stored.Tail)
        {
            var parsed = TextOperation.Parse(op.Op);
            text.Apply(parsed);
            window.Add(new CommittedOp(op.Rev, op.ClientId, op.Seq, parsed), inverse: null);
            clients[op.ClientId] = new ClientMark(op.Seq, op.Rev);
        }
        foreach (var (client, mark) in clients) committedClients[client] = mark;
        rev = committedRev = stored.Rev;
        snapshotRev = stored.Snapshot.Rev;
        window.Trim(committedRev, options.WindowSize);

        var expiry = options.SubscriptionExpiry;
        this.RegisterGrainTimer(ExpireSubscriptionsAsync, expiry / 2, expiry / 2);
        LogActivated(logger, DocumentId, committedRev, stored.Tail.Count);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (committing is not null) await committing.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
        if (failure is null && committedRev > snapshotRev) await SaveSnapshotAsync();
    }

    public async Task<SubmitResult> Submit(SubmitRequest request)
    {
        if (failure is not null) return Unavailable();

        if (clients.TryGetValue(request.ClientId, out var mark) && request.Seq <= mark.Seq)
        {
            var original = request.Seq == mark.Seq ? mark.Rev : window.FindRev(request.ClientId, request.Seq);
            if (original is not { } originalRev)
                return new SubmitResult(SubmitStatus.BadRequest, committedRev,
                    $"seq {request.Seq} is older than seq {mark.Seq}, the last one committed for this client; seqs must increase.");
            if (originalRev > committedRev && !await CommittedAsync(originalRev)) return Unavailable();
            return new SubmitResult(SubmitStatus.Duplicate, originalRev);
        }
        if (!rate.TryTake(out var retryAfterMs))
            return new SubmitResult(SubmitStatus.RateLimited, committedRev,
                $"the document takes at most {options.OpsPerSecond} ops per second from all its editors; send this op again after retryAfterMs", retryAfterMs);
        if (request.BaseRev > rev)
            return new SubmitResult(SubmitStatus.BadRequest, committedRev, $"rev {request.BaseRev} is ahead of the document (at {rev}).");
        if (request.BaseRev < window.OldestBase)
            return new SubmitResult(SubmitStatus.StaleRev, committedRev,
                $"rev {request.BaseRev} is too old to transform (oldest is {window.OldestBase}); join again with your rev to catch up.");

        var op = request.Op;
        try
        {
            for (var v = request.BaseRev + 1; v <= rev; v++) op = TextOperation.Transform(op, window[v].Op).APrime;
        }
        catch (OtException)
        {
            return new SubmitResult(SubmitStatus.BadOp, committedRev,
                $"op base length {request.Op.BaseLength} does not match the document length at rev {request.BaseRev}.");
        }
        if (OpValidation.Check(op, text) is { } problem) return new SubmitResult(SubmitStatus.BadOp, committedRev, problem);
        if (op.TargetLength > options.MaxDocumentLength && op.TargetLength > op.BaseLength)
            return new SubmitResult(SubmitStatus.TooLarge, committedRev,
                $"the document would grow to {op.TargetLength} characters; the limit is {options.MaxDocumentLength}.");

        var inverse = text.Apply(op);
        var committed = new CommittedOp(++rev, request.ClientId, request.Seq, op);
        window.Add(committed, inverse);
        clients[request.ClientId] = new ClientMark(request.Seq, rev);
        pending.Add(committed);
        var batch = nextBatch;
        if (!commitLoopRunning)
        {
            // The flag, not the task, says whether a loop runs: a store that completes synchronously finishes the loop
            // before CommitLoopAsync even returns its task.
            commitLoopRunning = true;
            committing = CommitLoopAsync();
        }
        try
        {
            await batch.Task;
        }
        catch (Exception)
        {
            return Unavailable();
        }
        return new SubmitResult(SubmitStatus.Committed, committed.Rev);
    }

    public async Task<JoinResult> Join(long? sinceRev)
    {
        ThrowIfFailed();
        var presences = subscriptions.Presences();
        if (sinceRev is { } since && since >= 0 && since <= committedRev && committedRev - since <= options.MaxCatchUpOps)
        {
            var ops = await ReadCommittedAsync(since, options.MaxCatchUpOps);
            return new JoinResult(since + ops.Length, null, since, ops, presences);
        }
        return new JoinResult(committedRev, CommittedText(), null, null, presences);
    }

    public Task<CommittedOp[]> GetOps(long afterRev, int maxCount)
    {
        ThrowIfFailed();
        return ReadCommittedAsync(Math.Max(afterRev, 0), Math.Clamp(maxCount, 1, options.MaxCatchUpOps));
    }

    public Task<DocumentState> GetState()
    {
        ThrowIfFailed();
        return Task.FromResult(new DocumentState(committedRev, CommittedText()));
    }

    public Task<DocumentStatus> GetStatus() => Task.FromResult(new DocumentStatus(
        committedRev, snapshotRev, (int)(rev - committedRev), GetSiloAddress(), activatedAt,
        subscriptions.Observers.Length, subscriptions.PresenceCount));

    public Task<long> Subscribe(string hostId, IDocumentObserver observer)
    {
        subscriptions.Renew(hostId, observer, DateTime.UtcNow + options.SubscriptionExpiry);
        return Task.FromResult(committedRev);
    }

    public Task Unsubscribe(string hostId)
    {
        foreach (var sessionId in subscriptions.Remove(hostId)) NotifyPresence(null, sessionId);
        return Task.CompletedTask;
    }

    public Task SetPresence(string hostId, PresenceState presence)
    {
        subscriptions.SetPresence(hostId, presence);
        NotifyPresence(presence, null);
        return Task.CompletedTask;
    }

    public Task RemovePresence(string sessionId)
    {
        if (subscriptions.RemovePresence(sessionId)) NotifyPresence(null, sessionId);
        return Task.CompletedTask;
    }

    private async Task CommitLoopAsync()
    {
        try
        {
            await CommitPendingAsync();
        }
        finally
        {
            commitLoopRunning = false;
        }
    }

    private async Task CommitPendingAsync()
    {
        while (pending.Count > 0)
        {
            var batch = pending;
            pending = [];
            var done = inflightBatch = nextBatch;
            nextBatch = NewBatch();
            inflightLastRev = batch[^1].Rev;
            try
            {
                await store.AppendAsync(DocumentId, ToStored(batch));
            }
            catch (Exception e)
            {
                Fail(e, done);
                return;
            }

            var fromRev = committedRev + 1;
            committedRev = inflightLastRev;
            foreach (var op in batch) committedClients[op.ClientId] = new ClientMark(op.Seq, op.Rev);
            window.Committed(fromRev, committedRev);
            window.Trim(committedRev, options.WindowSize);
            NotifyCommitted([.. batch]);
            inflightBatch = null;
            done.TrySetResult();
            LogCommitted(logger, DocumentId, batch.Count, committedRev);

            if (committedRev - snapshotRev >= options.SnapshotEvery) await SaveSnapshotAsync();
        }
    }

    /// <summary>A write failed: the tentative ops after the committed revision can no longer be trusted, nor can this activation.</summary>
    private void Fail(Exception error, TaskCompletionSource batch)
    {
        failure = error;
        if (error is RevisionConflictException) LogFenced(logger, DocumentId, committedRev, error);
        else LogCommitFailed(logger, DocumentId, committedRev, error);
        batch.TrySetException(error);
        nextBatch.TrySetException(error);
        pending = [];
        DeactivateOnIdle();
    }

    private async Task<bool> CommittedAsync(long targetRev)
    {
        var batch = targetRev <= inflightLastRev && inflightBatch is not null ? inflightBatch : nextBatch;
        try
        {
            await batch.Task;
            return true;
        }
        catch (Exception)
        {
            return false;
        }
    }

    private async Task SaveSnapshotAsync()
    {
        var snapshot = new DocumentSnapshot(committedRev, CommittedText(), new Dictionary<string, ClientMark>(committedClients));
        try
        {
            await store.SaveSnapshotAsync(DocumentId, snapshot);
            snapshotRev = Math.Max(snapshotRev, snapshot.Rev);
        }
        catch (Exception e)
        {
            // The op log is complete without snapshots; a failed snapshot only makes the next load longer.
            LogSnapshotFailed(logger, DocumentId, snapshot.Rev, e);
        }
    }

    /// <summary>The text at the committed revision: the live buffer with the tentative ops undone.</summary>
    private string CommittedText()
    {
        var result = text.ToString();
        for (var v = rev; v > committedRev; v--) result = window.InverseOf(v).Apply(result);
        return result;
    }

    private async Task<CommittedOp[]> ReadCommittedAsync(long afterRev, int maxCount)
    {
        if (afterRev >= window.OldestBase) return window.Range(afterRev, committedRev, maxCount);
        var upTo = committedRev;
        var stored = await store.ReadOpsAsync(DocumentId, afterRev, (int)Math.Min(maxCount, upTo - afterRev));
        var ops = new CommittedOp[stored.Count];
        for (var i = 0; i < ops.Length; i++)
            ops[i] = new CommittedOp(stored[i].Rev, stored[i].ClientId, stored[i].Seq, TextOperation.Parse(stored[i].Op));
        return ops;
    }

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
        return Task.CompletedTask;
    }

    private string GetSiloAddress() => this.RuntimeIdentity;

    private void ThrowIfFailed()
    {
        if (failure is not null)
            throw new InvalidOperationException($"Document '{DocumentId}' is moving to a new activation; retry.", failure);
    }

    private static StoredOp[] ToStored(List<CommittedOp> batch)
    {
        var stored = new StoredOp[batch.Count];
        for (var i = 0; i < stored.Length; i++)
        {
            var op = batch[i];
            stored[i] = new StoredOp(op.Rev, op.ClientId, op.Seq, op.Op.ToJson());
        }
        return stored;
    }

    private SubmitResult Unavailable() =>
        new(SubmitStatus.Unavailable, committedRev, "the document could not commit; retry the same seq shortly.");

    private static TaskCompletionSource NewBatch() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Document {DocumentId} activated at rev {Rev} ({TailOps} ops replayed after the snapshot)")]
    private static partial void LogActivated(ILogger logger, string documentId, long rev, int tailOps);

    [LoggerMessage(Level = LogLevel.Trace, Message = "Document {DocumentId} committed {Count} ops up to rev {Rev}")]
    private static partial void LogCommitted(ILogger logger, string documentId, int count, long rev);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} lost its fence at rev {Rev}: another activation appended first; deactivating")]
    private static partial void LogFenced(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Document {DocumentId} failed to commit after rev {Rev}; deactivating")]
    private static partial void LogCommitFailed(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed to write its snapshot at rev {Rev}")]
    private static partial void LogSnapshotFailed(ILogger logger, string documentId, long rev, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} failed to notify an observer")]
    private static partial void LogNotifyFailed(ILogger logger, string documentId, Exception error);
}
