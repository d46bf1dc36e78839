using Collab.Contracts;
using Collab.Ot;
using Collab.Storage;

namespace Collab.Grains.Core;

/// <summary>
/// Everything a document decides, with no I/O and no clock of its own: which submits are accepted and at what revision,
/// which ops go into the next store write (group commit: one write in flight, everything accepted meanwhile joins the
/// next), which submits are answered when a write completes or fails, and when a snapshot is due. The grain is a thin
/// shell that performs the writes this core asks for and reports their outcome.
/// </summary>
/// <remarks>
/// Invariants: revisions are assigned consecutively; a submit is answered exactly once, and <c>Committed</c> or
/// <c>Duplicate</c> only after the write covering its revision completed; committed ops are published in revision
/// order without gap or repeat; after a failed write every waiting and later submit is answered <c>Unavailable</c>.
/// </remarks>
public sealed class DocumentCore
{
    private readonly DocumentGrainOptions options;
    private readonly OpWindow window = new();
    private readonly ClientTable clients = new();
    private readonly TokenBucket rate;
    private readonly PriorityQueue<Waiter, long> waiters = new();
    private TextBuffer text;
    private TextBuffer committedText;
    private List<CommittedOp> pending = [];
    private StoreWrite? inflight;
    private long nextTicket = 1;
    private long snapshotInFlight = -1;
    private bool checkpointInFlight;
    private long bytesSinceCheckpoint;
    private long bytesInCheckpoint;

    public DocumentCore(StoredDocument stored, DocumentGrainOptions options)
    {
        this.options = options;
        rate = new TokenBucket(options.OpsPerSecond, options.OpsBurst);
        committedText = new TextBuffer(stored.Snapshot.Text);
        window.Reset(stored.Snapshot.Rev);
        foreach (var (client, mark) in stored.Snapshot.Clients.OrderBy(c => c.Value.Rev)) clients.Restore(client, mark);
        foreach (var op in stored.Tail)
        {
            var parsed = TextOperation.Parse(op.Op);
            committedText.Apply(parsed);
            window.Add(new CommittedOp(op.Rev, op.ClientId, op.Seq, parsed));
            clients.Restore(op.ClientId, new ClientMark(op.Seq, op.Rev));
            // Only the ops after the snapshot are loaded: a lower bound of what was committed since the checkpoint.
            if (op.Rev > stored.CheckpointRev) bytesSinceCheckpoint += op.Op.Length;
        }
        text = new TextBuffer(committedText.ToString());
        Rev = CommittedRev = stored.Rev;
        SnapshotRev = stored.Snapshot.Rev;
        CheckpointRev = stored.CheckpointRev;
        Trim();
    }

    /// <summary>The revision of the newest history checkpoint written.</summary>
    public long CheckpointRev { get; private set; }

    /// <summary>The newest revision assigned (committed or tentative).</summary>
    public long Rev { get; private set; }

    /// <summary>The newest revision known to be durable.</summary>
    public long CommittedRev { get; private set; }

    /// <summary>The revision of the newest snapshot written.</summary>
    public long SnapshotRev { get; private set; }

    /// <summary>Set once a write failed: this activation's tentative state cannot be trusted any more.</summary>
    public Exception? Failure { get; private set; }

    /// <summary>The oldest revision an op may be based on (older ones are refused as stale).</summary>
    public long OldestBase => Math.Max(window.OldestBase, CommittedRev - options.WindowSize);

    /// <summary>Submits waiting for a write.</summary>
    public int Waiting => waiters.Count;

    /// <summary>Ops accepted and not yet durable.</summary>
    public int Tentative => (int)(Rev - CommittedRev);

    /// <summary>Ops held in memory for transforms and catch-up.</summary>
    public int WindowCount => window.Count;

    /// <summary>What the ops held in memory weigh (bounded by <see cref="DocumentGrainOptions.WindowBytes"/> plus the ops not yet committed).</summary>
    public long WindowBytes => window.Bytes;

    /// <summary>The dedupe table.</summary>
    public ClientTable Clients => clients;

    /// <summary>The text at <see cref="CommittedRev"/>, kept up to date as writes complete (the string is cached between commits).</summary>
    public string CommittedText => committedText.ToString();

    /// <summary>The text with the tentative ops applied.</summary>
    public string TentativeText => text.ToString();

    /// <summary>Whether a write is in flight.</summary>
    public bool Writing => inflight is not null;

    /// <summary>Decides a submit at <paramref name="now"/> (for the rate limit): answered now, or when a write completes.</summary>
    public SubmitDecision Submit(SubmitRequest request, TimeSpan now)
    {
        if (Failure is not null) return Now(Unavailable());

        if (clients.TryGet(request.ClientId, out var mark) && request.Seq <= mark.Seq)
        {
            var original = request.Seq == mark.Seq ? mark.Rev : window.FindRev(request.ClientId, request.Seq);
            if (original is not { } originalRev)
                return Now(new SubmitResult(SubmitStatus.BadRequest, CommittedRev,
                    $"seq {request.Seq} is older than seq {mark.Seq}, the last one committed for this client; seqs must increase."));
            var duplicate = new SubmitResult(SubmitStatus.Duplicate, originalRev);
            return originalRev <= CommittedRev ? Now(duplicate) : Wait(originalRev, duplicate);
        }
        if (!rate.TryTake(now, out var retryAfterMs))
            return Now(new SubmitResult(SubmitStatus.RateLimited, CommittedRev,
                $"the document takes at most {options.OpsPerSecond} ops per second from all its editors; send this op again after retryAfterMs", retryAfterMs));
        if (request.BaseRev > Rev)
            return new SubmitDecision(new SubmitResult(SubmitStatus.BadRequest, CommittedRev, $"rev {request.BaseRev} is ahead of the document (at {Rev})."), 0, Ahead: true);
        if (request.BaseRev < OldestBase)
            return Now(new SubmitResult(SubmitStatus.StaleRev, CommittedRev,
                $"rev {request.BaseRev} is too old to transform (oldest is {OldestBase}); join again with your rev to catch up."));

        var op = request.Op;
        try
        {
            for (var v = request.BaseRev + 1; v <= Rev; v++) op = TextOperation.Transform(op, window[v].Op).APrime;
        }
        catch (OtException)
        {
            return Now(new SubmitResult(SubmitStatus.BadOp, CommittedRev,
                $"op base length {request.Op.BaseLength} does not match the document length at rev {request.BaseRev}."));
        }
        if (OpValidation.Check(op, text) is { } problem) return Now(new SubmitResult(SubmitStatus.BadOp, CommittedRev, problem));
        if (op.TargetLength > options.MaxDocumentLength && op.TargetLength > op.BaseLength)
            return Now(new SubmitResult(SubmitStatus.TooLarge, CommittedRev,
                $"the document would grow to {op.TargetLength} characters; the limit is {options.MaxDocumentLength}."));

        text.Apply(op);
        var committed = new CommittedOp(++Rev, request.ClientId, request.Seq, op);
        window.Add(committed);
        clients.Assigned(request.ClientId, request.Seq, Rev);
        pending.Add(committed);
        return Wait(Rev, new SubmitResult(SubmitStatus.Committed, Rev));
    }

    /// <summary>The next write to perform, when none is in flight and ops are waiting; null otherwise.</summary>
    public StoreWrite? TakeWrite()
    {
        if (inflight is not null || pending.Count == 0 || Failure is not null) return null;
        inflight = new StoreWrite([.. pending]);
        pending = [];
        return inflight;
    }

    /// <summary>The write in flight is durable: its ops are committed, published, and their submits answered.</summary>
    public CommitOutcome WriteSucceeded()
    {
        var write = inflight ?? throw new InvalidOperationException("No write is in flight.");
        inflight = null;
        foreach (var op in write.Ops)
        {
            committedText.Apply(op.Op);
            clients.Committed(op.ClientId, op.Seq, op.Rev);
            bytesSinceCheckpoint += WireSize.Operation(op.Op);
        }
        CommittedRev = write.LastRev;
        Trim();
        var answers = new List<Answer>();
        while (waiters.TryPeek(out var waiter, out var rev) && rev <= CommittedRev)
        {
            waiters.Dequeue();
            answers.Add(new Answer(waiter.Ticket, waiter.Result));
        }
        return new CommitOutcome(write.Ops, answers);
    }

    /// <summary>The write in flight failed (store error or lost fence): every waiting submit is answered <c>Unavailable</c>.</summary>
    public IReadOnlyList<Answer> WriteFailed(Exception error)
    {
        if (inflight is null) throw new InvalidOperationException("No write is in flight.");
        inflight = null;
        return Stop(error);
    }

    /// <summary>
    /// The store holds revisions this activation never assigned: another activation wrote them, so this one is stale. It
    /// accepts nothing more; every waiting submit is answered <c>Unavailable</c> (its client resends the same seq to the
    /// next activation, whose dedupe table knows what became durable). A write still in flight may complete or fail.
    /// </summary>
    public IReadOnlyList<Answer> Superseded(Exception reason) => Stop(reason);

    private List<Answer> Stop(Exception reason)
    {
        Failure ??= reason;
        pending = [];
        var answers = new List<Answer>(waiters.Count);
        var unavailable = Unavailable();
        while (waiters.TryDequeue(out var waiter, out _)) answers.Add(new Answer(waiter.Ticket, unavailable));
        return answers;
    }

    /// <summary>A snapshot to write now, when one is due (or <paramref name="force"/>: the document goes idle) and none is in flight.</summary>
    public DocumentSnapshot? TakeSnapshot(bool force = false) => TakeSnapshot(out _, force);

    /// <summary>
    /// A snapshot to write now, when one is due (or <paramref name="force"/>) and none is in flight;
    /// <paramref name="checkpoint"/> says whether the store should keep it as a history checkpoint too. A checkpoint is
    /// due after <see cref="DocumentGrainOptions.CheckpointBytes"/> of ops, or after <see cref="DocumentGrainOptions.SnapshotEvery"/>
    /// ops that weigh at least the text: so checkpoints never cost much more than the ops they let compaction fold.
    /// </summary>
    public DocumentSnapshot? TakeSnapshot(out bool checkpoint, bool force = false)
    {
        checkpoint = false;
        if (snapshotInFlight >= 0 || Failure is not null || CommittedRev <= SnapshotRev) return null;
        checkpoint = CommittedRev > CheckpointRev && (bytesSinceCheckpoint >= options.CheckpointBytes
            || (CommittedRev - CheckpointRev >= options.SnapshotEvery && bytesSinceCheckpoint >= committedText.Length));
        if (!force && !checkpoint && CommittedRev - SnapshotRev < options.SnapshotEvery) return null;
        snapshotInFlight = CommittedRev;
        checkpointInFlight = checkpoint;
        bytesInCheckpoint = bytesSinceCheckpoint;
        return new DocumentSnapshot(CommittedRev, CommittedText, clients.CommittedMarks());
    }

    /// <summary>Whether a snapshot write is in flight.</summary>
    public bool Snapshotting => snapshotInFlight >= 0;

    public void SnapshotSucceeded()
    {
        if (snapshotInFlight < 0) throw new InvalidOperationException("No snapshot is in flight.");
        SnapshotRev = Math.Max(SnapshotRev, snapshotInFlight);
        if (checkpointInFlight && snapshotInFlight > CheckpointRev)
        {
            CheckpointRev = snapshotInFlight;
            // What was committed while the checkpoint was written still counts towards the next one.
            bytesSinceCheckpoint -= bytesInCheckpoint;
        }
        snapshotInFlight = -1;
    }

    /// <summary>The op log is complete without snapshots: a failed one only makes the next load longer.</summary>
    public void SnapshotFailed()
    {
        if (snapshotInFlight < 0) throw new InvalidOperationException("No snapshot is in flight.");
        snapshotInFlight = -1;
    }

    /// <summary>Committed ops after <paramref name="afterRev"/> held in memory, or null when they must be read from the store.</summary>
    public CommittedOp[]? CommittedOpsInMemory(long afterRev, int maxCount) =>
        afterRev >= window.OldestBase ? window.Range(afterRev, CommittedRev, maxCount) : null;

    private void Trim()
    {
        window.Trim(CommittedRev, options.WindowSize, options.WindowBytes);
        clients.Prune(CommittedRev - options.WindowSize);
    }

    private SubmitDecision Wait(long rev, SubmitResult result)
    {
        var ticket = nextTicket++;
        waiters.Enqueue(new Waiter(ticket, result), rev);
        return new SubmitDecision(null, ticket);
    }

    private static SubmitDecision Now(SubmitResult result) => new(result, 0);

    private SubmitResult Unavailable() =>
        new(SubmitStatus.Unavailable, CommittedRev, "the document could not commit; retry the same seq shortly.");

    private readonly record struct Waiter(long Ticket, SubmitResult Result);
}

/// <summary>
/// A submit's fate: <see cref="Result"/> now, or (when null) the answer to <see cref="Ticket"/> once a write completes.
/// <see cref="Ahead"/>: the base is ahead of this activation; <see cref="Result"/> refuses it, unless the store shows that
/// another activation wrote those revisions (then this one is stale: <see cref="DocumentCore.Superseded"/>).
/// </summary>
public readonly record struct SubmitDecision(SubmitResult? Result, long Ticket, bool Ahead = false);

/// <summary>The answer owed to a waiting submit.</summary>
public readonly record struct Answer(long Ticket, SubmitResult Result);

/// <summary>One append to perform: consecutive ops.</summary>
public sealed record StoreWrite(IReadOnlyList<CommittedOp> Ops)
{
    public long FirstRev => Ops[0].Rev;
    public long LastRev => Ops[^1].Rev;
}

/// <summary>What a completed write releases: the ops to publish, in order, and the submits to answer.</summary>
public sealed record CommitOutcome(IReadOnlyList<CommittedOp> Ops, IReadOnlyList<Answer> Answers);
