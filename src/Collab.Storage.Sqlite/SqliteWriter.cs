using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Collab.Storage.Sqlite;

/// <summary>
/// The store's single writer: one connection and one thread that drains every queued request into one
/// transaction (one fsync for many appends, across documents), with a savepoint per request so a conflicting
/// request fails alone while the rest commit.
/// </summary>
internal sealed class SqliteWriter
{
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;

    private readonly Channel<WriteRequest> queue = Channel.CreateUnbounded<WriteRequest>(
        new UnboundedChannelOptions { SingleReader = true, AllowSynchronousContinuations = false });
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string connectionString;
    private readonly TimeSpan busyTimeout;
    private readonly int maxBatchRequests;
    private readonly long maxSizeBytes;
    private readonly ILogger logger;
    private readonly Thread thread;
    private SqliteConnection? connection;
    private Statements? statements;
    private readonly KeyValuePair<string, object?>[] metricTags;
    private long committedTransactions;
    private Exception? crash;

    /// <summary>Opens the writer connection and brings the schema up to date, failing fast on a bad file or folder.</summary>
    public SqliteWriter(string databasePath, string connectionString, TimeSpan busyTimeout, int maxBatchRequests, long maxSizeBytes, ILogger logger)
    {
        this.maxSizeBytes = maxSizeBytes;
        metricTags = StoreMetrics.Tags("sqlite", databasePath);
        this.connectionString = connectionString;
        this.busyTimeout = busyTimeout;
        this.maxBatchRequests = maxBatchRequests;
        this.logger = logger;
        SchemaVersion = Open();
        thread = new Thread(Run) { Name = "Collab SQLite writer", IsBackground = true };
    }

    public long SchemaVersion { get; }

    public long CommittedTransactions => Interlocked.Read(ref committedTransactions);

    /// <summary>Set when the loop died of a bug; the store then refuses further work with it as the cause.</summary>
    public Exception? Crash => Volatile.Read(ref crash);

    public void Start() => thread.Start();

    public bool TryEnqueue(WriteRequest request) => queue.Writer.TryWrite(request);

    /// <summary>Stops accepting requests, lets the loop write what is queued, and closes the connection.</summary>
    public Task StopAsync()
    {
        queue.Writer.TryComplete();
        return stopped.Task;
    }

    private void Run()
    {
        var reader = queue.Reader;
        var batch = new List<WriteRequest>(Math.Min(maxBatchRequests, 256));
        try
        {
            while (WaitToRead(reader))
            {
                while (batch.Count < maxBatchRequests && reader.TryRead(out var request))
                {
                    // Cancellation is honoured only before a request is written: once in a transaction its outcome is reported.
                    if (request.CancellationToken.IsCancellationRequested)
                    {
                        request.Cancel();
                    }
                    else
                    {
                        batch.Add(request);
                    }
                }

                if (batch.Count > 0)
                {
                    WriteBatch(batch);
                    batch.Clear();
                }
            }
        }
        catch (Exception exception)
        {
            Volatile.Write(ref crash, exception);
            SqliteStoreLog.LogWriterCrashed(logger, exception);
            queue.Writer.TryComplete(exception);
            foreach (var request in batch)
            {
                request.Fail(exception);
            }

            while (reader.TryRead(out var request))
            {
                request.Fail(exception);
            }
        }
        finally
        {
            CloseConnection();
            stopped.TrySetResult();
        }
    }

    private static bool WaitToRead(ChannelReader<WriteRequest> reader)
    {
        // This thread does nothing else, so blocking it while the queue is empty is the point.
        var wait = reader.WaitToReadAsync();
        if (wait.IsCompletedSuccessfully) return wait.Result;
        // Block on a wait handle: waiting on the task itself would spin (yielding the CPU thousands of times a second
        // at a few hundred commits per second) before it sleeps.
        var task = wait.AsTask();
        if (!task.IsCompleted) ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.GetAwaiter().GetResult();
    }

    private void WriteBatch(List<WriteRequest> batch)
    {
        var started = Stopwatch.GetTimestamp();
        var outcomes = new Exception?[batch.Count];
        int ops = 0, failed = 0;
        try
        {
            if (connection is null)
            {
                Open();
            }

            var s = statements!;
            var committedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            s.Begin.ExecuteNonQuery();
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    s.Savepoint.ExecuteNonQuery();
                    try
                    {
                        Execute(s, batch[i], committedAt);
                        s.Release.ExecuteNonQuery();
                        ops += batch[i].OpCount;
                    }
                    catch (Exception exception) when (exception is RevisionConflictException or WriterFencedException or SqliteException or ArgumentException)
                    {
                        // When SQLite already rolled the whole transaction back (I/O error, disk full) the savepoint is gone:
                        // the batch fails, with this request's error as the cause (not "no such savepoint").
                        try
                        {
                            s.RollbackToSavepoint.ExecuteNonQuery();
                            s.Release.ExecuteNonQuery();
                        }
                        catch (SqliteException)
                        {
                            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(exception);
                        }
                        outcomes[i] = exception;
                        failed++;
                    }
                }

                s.Commit.ExecuteNonQuery();
            }
            catch
            {
                TryRollback();
                throw;
            }
        }
        catch (Exception exception) when (exception is SqliteException or InvalidOperationException or IOException)
        {
            // Nothing of this batch is stored; start over on a fresh connection in case this one is broken.
            SqliteStoreLog.LogBatchFailed(logger, exception, batch.Count);
            CloseConnection();
            foreach (var request in batch)
            {
                request.Fail(exception);
            }

            return;
        }

        Interlocked.Increment(ref committedTransactions);
        StoreMetrics.Transactions.Add(1, metricTags);
        StoreMetrics.BatchRequests.Record(batch.Count, metricTags);
        // Compactions complete only once their pages went back (after everything else of the batch was answered).
        var freed = false;
        for (var i = 0; i < batch.Count; i++)
        {
            if (outcomes[i] is { } exception)
            {
                LogRejected(batch[i], exception);
                batch[i].Fail(exception);
            }
            else if (batch[i] is CompactRequest { Result: { OpsDeleted: > 0 } or { CheckpointsDeleted: > 0 } })
            {
                freed = true;
            }
            else
            {
                batch[i].Succeed();
            }
        }

        SqliteStoreLog.LogBatchCommitted(logger, batch.Count, ops, failed, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        if (!freed) return;
        ReturnFreePages();
        for (var i = 0; i < batch.Count; i++)
            if (outcomes[i] is null && batch[i] is CompactRequest) batch[i].Succeed();
    }

    /// <summary>
    /// Runs a statement to its end on the raw handle: incremental_vacuum frees one page per step and reports each as a
    /// row without columns, which ADO.NET readers stop at after the first.
    /// </summary>
    private static void StepToEnd(SqliteConnection connection, string sql)
    {
        var rc = SQLitePCL.raw.sqlite3_prepare_v2(connection.Handle, sql, out var statement);
        try
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
            while ((rc = SQLitePCL.raw.sqlite3_step(statement)) == SQLitePCL.raw.SQLITE_ROW) { }
            if (rc != SQLitePCL.raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }
        finally
        {
            statement.Dispose();
        }
    }

    /// <summary>After a compaction: free pages back to the file system, and the WAL cut back (both best effort).</summary>
    private void ReturnFreePages()
    {
        try
        {
            StepToEnd(connection!, "PRAGMA incremental_vacuum;");
            StepToEnd(connection!, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException exception)
        {
            // Readers may hold the WAL; the pages stay free for reuse and the next compaction tries again.
            SqliteStoreLog.LogVacuumFailed(logger, exception);
        }
    }

    private void LogRejected(WriteRequest request, Exception exception)
    {
        if (exception is RevisionConflictException conflict)
        {
            SqliteStoreLog.LogAppendConflict(logger, conflict.DocumentId, conflict.ExpectedRev, conflict.StoredRev);
        }
        else if (exception is WriterFencedException fenced)
        {
            SqliteStoreLog.LogAppendFenced(logger, fenced.DocumentId, fenced.WriterEpoch, fenced.StoredEpoch);
        }
        else
        {
            SqliteStoreLog.LogRequestFailed(logger, exception, request.DocumentId);
        }
    }

    private void Execute(Statements s, WriteRequest request, long committedAt)
    {
        switch (request)
        {
            case AppendRequest append:
                Append(s, append, committedAt);
                break;
            case ClaimRequest claim:
                s.ClaimDoc.Value = claim.DocumentId;
                claim.Epoch = s.ClaimWriter.ExecuteScalar() is long epoch ? epoch : 0;
                break;
            case SnapshotRequest snapshot:
                s.SnapshotDoc.Value = snapshot.DocumentId;
                s.SnapshotRev.Value = snapshot.Snapshot.Rev;
                s.SnapshotText.Value = snapshot.Snapshot.Text;
                s.SnapshotClients.Value = snapshot.ClientsJson;
                s.UpsertSnapshot.ExecuteNonQuery();
                if (snapshot.Checkpoint)
                {
                    s.CheckpointDoc.Value = snapshot.DocumentId;
                    s.CheckpointRev.Value = snapshot.Snapshot.Rev;
                    s.CheckpointText.Value = snapshot.Snapshot.Text;
                    s.CheckpointSavedAt.Value = committedAt;
                    s.InsertCheckpoint.ExecuteNonQuery();
                }
                break;
            case CompactRequest compact:
                Compact(s, compact);
                break;
            case AccessRequest access:
                s.AccessDoc.Value = access.DocumentId;
                s.AccessOwner.Value = access.Access.OwnerGeneration;
                s.AccessEdit.Value = access.Access.EditGeneration;
                s.AccessView.Value = access.Access.ViewGeneration;
                s.AccessCreatedAt.Value = access.Access.CreatedAt.ToUnixTimeMilliseconds();
                s.UpsertAccess.ExecuteNonQuery();
                break;
            case OwnedRequest owned:
                s.OwnedOwner.Value = owned.Owner;
                s.OwnedDoc.Value = owned.DocumentId;
                s.OwnedCreatedAt.Value = committedAt;
                s.InsertOwned.ExecuteNonQuery();
                break;
            case RevocationRequest revocation:
                s.RevocationKind.Value = revocation.Revocation.Kind;
                s.RevocationValue.Value = revocation.Revocation.Value;
                s.RevocationRevokedAt.Value = revocation.Revocation.RevokedAt.ToUnixTimeMilliseconds();
                s.RevocationExpiresAt.Value = revocation.Revocation.ExpiresAt.ToUnixTimeMilliseconds();
                s.UpsertRevocation.ExecuteNonQuery();
                s.PruneNow.Value = committedAt;
                s.PruneRevocations.ExecuteNonQuery();
                break;
            default:
                throw new InvalidOperationException($"Unknown write request {request.GetType().Name}.");
        }
    }

    private static void Append(Statements s, AppendRequest request, long committedAt)
    {
        s.EpochDoc.Value = request.DocumentId;
        var epoch = (long)s.WriterEpoch.ExecuteScalar()!;
        if (epoch != request.WriterEpoch)
        {
            throw new WriterFencedException(request.DocumentId, request.WriterEpoch, epoch);
        }

        var first = request.Ops[0].Rev;
        var stored = HeadRev(s, request.DocumentId);
        if (first != stored + 1)
        {
            throw new RevisionConflictException(request.DocumentId, expectedRev: first - 1, storedRev: stored);
        }

        s.InsertDoc.Value = request.DocumentId;
        s.InsertCommittedAt.Value = committedAt;
        foreach (var op in request.Ops)
        {
            s.InsertRev.Value = op.Rev;
            s.InsertClientId.Value = op.ClientId;
            s.InsertSeq.Value = op.Seq;
            s.InsertOp.Value = op.Op;
            try
            {
                s.InsertOpCommand.ExecuteNonQuery();
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode == SqliteConstraint
                && exception.SqliteExtendedErrorCode == SqliteConstraintPrimaryKey)
            {
                // The revision check above makes this unreachable; the primary key is the last line of defence.
                throw new RevisionConflictException(request.DocumentId, expectedRev: first - 1, storedRev: HeadRev(s, request.DocumentId));
            }
        }
    }

    private static void Compact(Statements s, CompactRequest request)
    {
        var policy = request.Policy;
        s.CompactDoc.Value = request.DocumentId;
        s.CompactCutoff.Value = policy.RetainSince.ToUnixTimeMilliseconds();
        s.CompactMaxBytes.Value = policy.MaxOpBytes;
        var point = s.CompactionPoint.ExecuteScalar();
        if (point is not long through || through <= 0) return;

        s.FoldDoc.Value = request.DocumentId;
        s.FoldThrough.Value = through;
        s.FoldStep.Value = CompactRequest.MaxOpsPerRequest;
        var deleted = s.FoldOps.ExecuteNonQuery();
        request.More = deleted >= CompactRequest.MaxOpsPerRequest;

        s.ThinDoc.Value = request.DocumentId;
        s.ThinBefore.Value = through;
        s.ThinEvery.Value = policy.KeepCheckpointEvery;
        var thinned = s.ThinCheckpoints.ExecuteNonQuery();
        request.Result = new CompactionResult(through, deleted, thinned);
    }

    private static long HeadRev(Statements s, string documentId)
    {
        s.HeadDoc.Value = documentId;
        return (long)s.HeadRev.ExecuteScalar()!;
    }

    private void TryRollback()
    {
        try
        {
            statements?.Rollback.ExecuteNonQuery();
        }
        catch (SqliteException)
        {
            // No transaction left to roll back (SQLite already did), or the connection is broken: it gets replaced.
        }
    }

    private long Open()
    {
        var opened = new SqliteConnection(connectionString);
        try
        {
            opened.Open();
            var version = SqliteSchema.Initialize(opened, busyTimeout, maxSizeBytes);
            statements = new Statements(opened);
            connection = opened;
            return version;
        }
        catch
        {
            opened.Dispose();
            throw;
        }
    }

    private void CloseConnection()
    {
        statements?.Dispose();
        statements = null;
        connection?.Dispose();
        connection = null;
    }

    /// <summary>The writer's prepared statements, bound once and reused for every request.</summary>
    private sealed class Statements : IDisposable
    {
        private readonly List<SqliteCommand> all = [];

        public Statements(SqliteConnection connection)
        {
            Begin = Prepare(connection, "BEGIN IMMEDIATE;");
            Commit = Prepare(connection, "COMMIT;");
            Rollback = Prepare(connection, "ROLLBACK;");
            Savepoint = Prepare(connection, "SAVEPOINT request;");
            Release = Prepare(connection, "RELEASE request;");
            RollbackToSavepoint = Prepare(connection, "ROLLBACK TO request;");

            HeadRev = Prepare(connection, """
                SELECT max(coalesce((SELECT max(rev) FROM ops WHERE doc = $doc), 0),
                           coalesce((SELECT rev FROM snapshots WHERE doc = $doc), 0));
                """, false);
            HeadDoc = HeadRev.Parameters.Add("$doc", SqliteType.Text);
            HeadRev.Prepare();

            WriterEpoch = Prepare(connection, "SELECT coalesce((SELECT epoch FROM writers WHERE doc = $doc), 0);", false);
            EpochDoc = WriterEpoch.Parameters.Add("$doc", SqliteType.Text);
            WriterEpoch.Prepare();

            // A claim raises the epoch of a document the store holds something of; a fresh name gets no row (no answer: 0).
            ClaimWriter = Prepare(connection, """
                INSERT INTO writers (doc, epoch)
                SELECT $doc, 1
                WHERE EXISTS (SELECT 1 FROM ops WHERE doc = $doc) OR EXISTS (SELECT 1 FROM snapshots WHERE doc = $doc)
                   OR EXISTS (SELECT 1 FROM access WHERE doc = $doc) OR EXISTS (SELECT 1 FROM writers WHERE doc = $doc)
                ON CONFLICT (doc) DO UPDATE SET epoch = epoch + 1
                RETURNING epoch;
                """, false);
            ClaimDoc = ClaimWriter.Parameters.Add("$doc", SqliteType.Text);
            ClaimWriter.Prepare();

            InsertOpCommand = Prepare(connection, """
                INSERT INTO ops (doc, rev, client_id, seq, op, committed_at)
                VALUES ($doc, $rev, $client_id, $seq, $op, $committed_at);
                """, false);
            InsertDoc = InsertOpCommand.Parameters.Add("$doc", SqliteType.Text);
            InsertRev = InsertOpCommand.Parameters.Add("$rev", SqliteType.Integer);
            InsertClientId = InsertOpCommand.Parameters.Add("$client_id", SqliteType.Text);
            InsertSeq = InsertOpCommand.Parameters.Add("$seq", SqliteType.Integer);
            InsertOp = InsertOpCommand.Parameters.Add("$op", SqliteType.Text);
            InsertCommittedAt = InsertOpCommand.Parameters.Add("$committed_at", SqliteType.Integer);
            InsertOpCommand.Prepare();

            UpsertSnapshot = Prepare(connection, """
                INSERT INTO snapshots (doc, rev, text, clients) VALUES ($doc, $rev, $text, $clients)
                ON CONFLICT (doc) DO UPDATE SET rev = excluded.rev, text = excluded.text, clients = excluded.clients
                WHERE excluded.rev > snapshots.rev;
                """, false);
            SnapshotDoc = UpsertSnapshot.Parameters.Add("$doc", SqliteType.Text);
            SnapshotRev = UpsertSnapshot.Parameters.Add("$rev", SqliteType.Integer);
            SnapshotText = UpsertSnapshot.Parameters.Add("$text", SqliteType.Text);
            SnapshotClients = UpsertSnapshot.Parameters.Add("$clients", SqliteType.Text);
            UpsertSnapshot.Prepare();

            UpsertAccess = Prepare(connection, """
                INSERT OR REPLACE INTO access (doc, owner_gen, edit_gen, view_gen, created_at)
                VALUES ($doc, $owner, $edit, $view, $created_at);
                """, false);
            AccessDoc = UpsertAccess.Parameters.Add("$doc", SqliteType.Text);
            AccessOwner = UpsertAccess.Parameters.Add("$owner", SqliteType.Integer);
            AccessEdit = UpsertAccess.Parameters.Add("$edit", SqliteType.Integer);
            AccessView = UpsertAccess.Parameters.Add("$view", SqliteType.Integer);
            AccessCreatedAt = UpsertAccess.Parameters.Add("$created_at", SqliteType.Integer);
            UpsertAccess.Prepare();

            UpsertRevocation = Prepare(connection, """
                INSERT OR REPLACE INTO revocations (kind, value, revoked_at, expires_at) VALUES ($kind, $value, $revoked_at, $expires_at);
                """, false);
            RevocationKind = UpsertRevocation.Parameters.Add("$kind", SqliteType.Text);
            RevocationValue = UpsertRevocation.Parameters.Add("$value", SqliteType.Text);
            RevocationRevokedAt = UpsertRevocation.Parameters.Add("$revoked_at", SqliteType.Integer);
            RevocationExpiresAt = UpsertRevocation.Parameters.Add("$expires_at", SqliteType.Integer);
            UpsertRevocation.Prepare();

            InsertOwned = Prepare(connection, "INSERT OR IGNORE INTO owned (owner, doc, created_at) VALUES ($owner, $doc, $created_at);", false);
            OwnedOwner = InsertOwned.Parameters.Add("$owner", SqliteType.Text);
            OwnedDoc = InsertOwned.Parameters.Add("$doc", SqliteType.Text);
            OwnedCreatedAt = InsertOwned.Parameters.Add("$created_at", SqliteType.Integer);
            InsertOwned.Prepare();

            InsertCheckpoint = Prepare(connection, "INSERT OR IGNORE INTO checkpoints (doc, rev, text, saved_at) VALUES ($doc, $rev, $text, $saved_at);", false);
            CheckpointDoc = InsertCheckpoint.Parameters.Add("$doc", SqliteType.Text);
            CheckpointRev = InsertCheckpoint.Parameters.Add("$rev", SqliteType.Integer);
            CheckpointText = InsertCheckpoint.Parameters.Add("$text", SqliteType.Text);
            CheckpointSavedAt = InsertCheckpoint.Parameters.Add("$saved_at", SqliteType.Integer);
            InsertCheckpoint.Prepare();

            // The compaction point: the newest checkpoint at or before the newest op that is older than the retention
            // window or beyond the op-byte budget (counted from the newest op back). Null when there is none.
            CompactionPoint = Prepare(connection, """
                WITH outside AS (
                    SELECT max(rev) AS rev FROM ops WHERE doc = $doc AND committed_at < $cutoff
                    UNION ALL
                    SELECT max(rev) FROM (
                        SELECT rev, sum(length(CAST(op AS BLOB))) OVER (ORDER BY rev DESC ROWS UNBOUNDED PRECEDING) AS newer
                        FROM ops WHERE doc = $doc)
                    WHERE newer > $max_bytes
                )
                SELECT max(c.rev) FROM checkpoints AS c
                WHERE c.doc = $doc AND c.rev <= (SELECT max(rev) FROM outside);
                """, false);
            CompactDoc = CompactionPoint.Parameters.Add("$doc", SqliteType.Text);
            CompactCutoff = CompactionPoint.Parameters.Add("$cutoff", SqliteType.Integer);
            CompactMaxBytes = CompactionPoint.Parameters.Add("$max_bytes", SqliteType.Integer);
            CompactionPoint.Prepare();

            // The oldest ops first, a bounded step at a time.
            FoldOps = Prepare(connection, """
                DELETE FROM ops WHERE doc = $doc AND rev <= $through
                AND rev < (SELECT min(rev) FROM ops WHERE doc = $doc) + $step;
                """, false);
            FoldDoc = FoldOps.Parameters.Add("$doc", SqliteType.Text);
            FoldThrough = FoldOps.Parameters.Add("$through", SqliteType.Integer);
            FoldStep = FoldOps.Parameters.Add("$step", SqliteType.Integer);
            FoldOps.Prepare();

            // Before the compaction point only checkpoints remain: keep the newest of every $every revisions.
            ThinCheckpoints = Prepare(connection, """
                DELETE FROM checkpoints WHERE doc = $doc AND rev < $before
                AND rev NOT IN (SELECT max(rev) FROM checkpoints WHERE doc = $doc AND rev < $before GROUP BY rev / $every);
                """, false);
            ThinDoc = ThinCheckpoints.Parameters.Add("$doc", SqliteType.Text);
            ThinBefore = ThinCheckpoints.Parameters.Add("$before", SqliteType.Integer);
            ThinEvery = ThinCheckpoints.Parameters.Add("$every", SqliteType.Integer);
            ThinCheckpoints.Prepare();


            PruneRevocations = Prepare(connection, "DELETE FROM revocations WHERE expires_at <= $now;", false);
            PruneNow = PruneRevocations.Parameters.Add("$now", SqliteType.Integer);
            PruneRevocations.Prepare();
        }

        public SqliteCommand Begin { get; }
        public SqliteCommand Commit { get; }
        public SqliteCommand Rollback { get; }
        public SqliteCommand Savepoint { get; }
        public SqliteCommand Release { get; }
        public SqliteCommand RollbackToSavepoint { get; }
        public SqliteCommand HeadRev { get; }
        public SqliteParameter HeadDoc { get; }
        public SqliteCommand WriterEpoch { get; }
        public SqliteParameter EpochDoc { get; }
        public SqliteCommand ClaimWriter { get; }
        public SqliteParameter ClaimDoc { get; }
        public SqliteCommand InsertOpCommand { get; }
        public SqliteParameter InsertDoc { get; }
        public SqliteParameter InsertRev { get; }
        public SqliteParameter InsertClientId { get; }
        public SqliteParameter InsertSeq { get; }
        public SqliteParameter InsertOp { get; }
        public SqliteParameter InsertCommittedAt { get; }
        public SqliteCommand UpsertSnapshot { get; }
        public SqliteParameter SnapshotDoc { get; }
        public SqliteParameter SnapshotRev { get; }
        public SqliteParameter SnapshotText { get; }
        public SqliteParameter SnapshotClients { get; }
        public SqliteCommand InsertCheckpoint { get; }
        public SqliteParameter CheckpointDoc { get; }
        public SqliteParameter CheckpointRev { get; }
        public SqliteParameter CheckpointText { get; }
        public SqliteParameter CheckpointSavedAt { get; }
        public SqliteCommand CompactionPoint { get; }
        public SqliteParameter CompactDoc { get; }
        public SqliteParameter CompactCutoff { get; }
        public SqliteParameter CompactMaxBytes { get; }
        public SqliteCommand FoldOps { get; }
        public SqliteParameter FoldDoc { get; }
        public SqliteParameter FoldThrough { get; }
        public SqliteParameter FoldStep { get; }
        public SqliteCommand ThinCheckpoints { get; }
        public SqliteParameter ThinDoc { get; }
        public SqliteParameter ThinBefore { get; }
        public SqliteParameter ThinEvery { get; }
        public SqliteCommand UpsertRevocation { get; }
        public SqliteParameter RevocationKind { get; }
        public SqliteParameter RevocationValue { get; }
        public SqliteParameter RevocationRevokedAt { get; }
        public SqliteParameter RevocationExpiresAt { get; }
        public SqliteCommand PruneRevocations { get; }
        public SqliteParameter PruneNow { get; }
        public SqliteCommand InsertOwned { get; }
        public SqliteParameter OwnedOwner { get; }
        public SqliteParameter OwnedDoc { get; }
        public SqliteParameter OwnedCreatedAt { get; }
        public SqliteCommand UpsertAccess { get; }
        public SqliteParameter AccessDoc { get; }
        public SqliteParameter AccessOwner { get; }
        public SqliteParameter AccessEdit { get; }
        public SqliteParameter AccessView { get; }
        public SqliteParameter AccessCreatedAt { get; }

        public void Dispose()
        {
            foreach (var command in all)
            {
                command.Dispose();
            }
        }

        private SqliteCommand Prepare(SqliteConnection connection, string sql, bool prepareNow = true)
        {
            var command = connection.CreateCommand();
            command.CommandText = sql;
            if (prepareNow)
            {
                command.Prepare();
            }

            all.Add(command);
            return command;
        }
    }
}
