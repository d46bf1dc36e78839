using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Collab.Storage.Sqlite;

/// <summary>
/// The embedded document store: one SQLite file in WAL mode, an append-only op log fenced by revision, and snapshots.
/// Writes from all documents are group-committed by a single writer; reads use pooled read-only connections.
/// </summary>
public sealed class SqliteDocumentStore : IDocumentStore, IAsyncDisposable
{
    private readonly SqliteWriter writer;
    private readonly string readerConnectionString;
    private readonly ILogger logger;
    private readonly long maxSizeBytes;
    private readonly KeyValuePair<string, object?>[] metricTags;
    private int disposed;

    /// <summary>Opens (creating when missing) the database file named by the options; fails fast on invalid options.</summary>
    public SqliteDocumentStore(IOptions<SqliteDocumentStoreOptions> options, ILogger<SqliteDocumentStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        var settings = options.Value;
        if (settings.Validate() is { } error)
        {
            throw new OptionsValidationException(SqliteDocumentStoreOptions.SectionName, typeof(SqliteDocumentStoreOptions), [error]);
        }

        this.logger = logger;
        DatabasePath = settings.DatabasePath;
        metricTags = StoreMetrics.Tags("sqlite", DatabasePath);
        CreatePrivately(DatabasePath);
        readerConnectionString = SqliteSchema.ReaderConnectionString(DatabasePath, settings.BusyTimeout);
        writer = new SqliteWriter(DatabasePath,
            SqliteSchema.WriterConnectionString(DatabasePath, settings.BusyTimeout), settings.BusyTimeout, settings.MaxBatchRequests, settings.MaxSizeBytes, logger);
        maxSizeBytes = settings.MaxSizeBytes;
        writer.Start();
        SqliteStoreLog.LogStoreOpened(logger, DatabasePath, writer.SchemaVersion);
    }

    /// <summary>Opens the store without dependency injection (tools, tests).</summary>
    public SqliteDocumentStore(SqliteDocumentStoreOptions options, ILogger<SqliteDocumentStore>? logger = null)
        : this(Options.Create(options ?? throw new ArgumentNullException(nameof(options))), logger ?? NullLogger<SqliteDocumentStore>.Instance)
    {
    }

    /// <summary>
    /// Creates the data folder (0700) and an empty database file (0600) when they do not exist, so documents are readable
    /// by this account only; SQLite gives the -wal and -shm files the database file's mode. Existing ones are left as the
    /// operator set them.
    /// </summary>
    private static void CreatePrivately(string databasePath)
    {
        var folder = Path.GetDirectoryName(databasePath)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
            return;
        }
        if (!Directory.Exists(folder)) Directory.CreateDirectory(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (File.Exists(databasePath)) return;
        try
        {
            using var created = new FileStream(databasePath, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        }
        catch (IOException) when (File.Exists(databasePath))
        {
            // Another store created it at the same moment.
        }
    }

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath { get; }

    /// <inheritdoc />
    public Task AppendAsync(string documentId, IReadOnlyList<StoredOp> ops, long writerEpoch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(ops);
        if (ops.Count == 0)
        {
            throw new ArgumentException("An append needs at least one op.", nameof(ops));
        }

        // Copied so the caller may reuse its list while the append waits in the queue.
        var copy = new StoredOp[ops.Count];
        for (var i = 0; i < copy.Length; i++)
        {
            var op = ops[i] ?? throw new ArgumentException($"Op {i} is null.", nameof(ops));
            if (op.Rev != ops[0].Rev + i)
            {
                throw new ArgumentException(
                    $"Ops must have consecutive revisions: op {i} has revision {op.Rev}, expected {ops[0].Rev + i}.", nameof(ops));
            }

            if (op.ClientId is null || op.Op is null)
            {
                throw new ArgumentException($"Op {i} (revision {op.Rev}) lacks a client id or op text.", nameof(ops));
            }

            copy[i] = op;
        }

        if (copy[0].Rev < 1)
        {
            throw new ArgumentException($"Revisions start at 1; the first op has revision {copy[0].Rev}.", nameof(ops));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(writerEpoch);
        return Enqueue(new AppendRequest(documentId, copy, writerEpoch, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<long> ClaimWriterAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        // A fresh name is answered from a reader, without a trip through the writer; the writer checks again atomically.
        if (!await ExistsAsync(documentId, cancellationToken).ConfigureAwait(false)) return 0;
        var claim = new ClaimRequest(documentId, cancellationToken);
        await Enqueue(claim).ConfigureAwait(false);
        return claim.Epoch;
    }

    /// <inheritdoc />
    public async Task<long> GetRevisionAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT max(coalesce((SELECT max(rev) FROM ops WHERE doc = $doc), 0),
                       coalesce((SELECT rev FROM snapshots WHERE doc = $doc), 0));
            """;
        command.Parameters.AddWithValue("$doc", documentId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public Task SaveSnapshotAsync(string documentId, DocumentSnapshot snapshot, bool checkpoint = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(snapshot.Text, nameof(snapshot));
        ArgumentNullException.ThrowIfNull(snapshot.Clients, nameof(snapshot));
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Rev, nameof(snapshot));
        return Enqueue(new SnapshotRequest(documentId, snapshot, ClientMarksJson.Serialize(snapshot.Clients), checkpoint, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<StoredDocument> LoadAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);

        // One read transaction: the snapshot and the tail come from the same committed state.
        await using var transaction = connection.BeginTransaction(deferred: true);
        var snapshot = DocumentSnapshot.Empty;
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT rev, text, clients FROM snapshots WHERE doc = $doc;";
            command.Parameters.AddWithValue("$doc", documentId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                snapshot = new DocumentSnapshot(reader.GetInt64(0), reader.GetString(1), ClientMarksJson.Deserialize(reader.GetString(2)));
            }
        }

        var tail = await ReadOpsAsync(connection, transaction, documentId, snapshot.Rev, limit: -1, cancellationToken).ConfigureAwait(false);
        long checkpointRev;
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT coalesce(max(rev), 0) FROM checkpoints WHERE doc = $doc;";
            command.Parameters.AddWithValue("$doc", documentId);
            checkpointRev = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }
        return new StoredDocument(snapshot, tail) { CheckpointRev = checkpointRev };
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT EXISTS (SELECT 1 FROM ops WHERE doc = $doc) OR EXISTS (SELECT 1 FROM snapshots WHERE doc = $doc)
                OR EXISTS (SELECT 1 FROM access WHERE doc = $doc);
            """;
        command.Parameters.AddWithValue("$doc", documentId);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))! != 0;
    }

    /// <inheritdoc />
    public async Task<DocumentStorageSize> MeasureAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: true);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            SELECT (SELECT count(*) FROM ops WHERE doc = $doc),
                   (SELECT coalesce(sum(length(CAST(op AS BLOB))), 0) FROM ops WHERE doc = $doc),
                   (SELECT coalesce(min(rev), 0) FROM ops WHERE doc = $doc),
                   (SELECT count(*) FROM checkpoints WHERE doc = $doc),
                   (SELECT coalesce(sum(length(CAST(text AS BLOB))), 0) FROM checkpoints WHERE doc = $doc),
                   coalesce((SELECT rev FROM snapshots WHERE doc = $doc), 0),
                   coalesce((SELECT length(CAST(text AS BLOB)) FROM snapshots WHERE doc = $doc), 0);
            """;
        command.Parameters.AddWithValue("$doc", documentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new DocumentStorageSize(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
            reader.GetInt64(5), reader.GetInt64(6));
    }

    /// <inheritdoc />
    public async Task<StoreSize> MeasureStoreAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT page_count * page_size, freelist_count * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size();";
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        var wal = new FileInfo(DatabasePath + "-wal");
        var walBytes = wal.Exists ? wal.Length : 0;
        var size = new StoreSize(reader.GetInt64(0) + walBytes, reader.GetInt64(1), maxSizeBytes > 0 ? maxSizeBytes : null);
        StoreMetrics.ReportSize(size, metricTags);
        return size;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListCompactableAsync(
        DateTimeOffset committedBefore, string? afterDocumentId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT DISTINCT o.doc FROM ops AS o
            WHERE o.doc > $after AND o.committed_at < $before
              AND EXISTS (SELECT 1 FROM checkpoints AS c WHERE c.doc = o.doc AND c.rev >= o.rev AND c.saved_at < $before)
            ORDER BY o.doc LIMIT $limit;
            """;
        command.Parameters.AddWithValue("$after", afterDocumentId ?? "");
        command.Parameters.AddWithValue("$before", committedBefore.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        var result = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) result.Add(reader.GetString(0));
        return result;
    }

    /// <inheritdoc />
    public async Task<CompactionResult> CompactAsync(string documentId, CompactionPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(policy.KeepCheckpointEvery, nameof(policy));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(policy.MaxOpBytes, nameof(policy));
        long through = 0, ops = 0, checkpoints = 0;
        while (true)
        {
            // One bounded step per request: other documents' appends commit between the steps.
            var request = new CompactRequest(documentId, policy, cancellationToken);
            await Enqueue(request).ConfigureAwait(false);
            through = Math.Max(through, request.Result.FoldedThroughRev);
            ops += request.Result.OpsDeleted;
            checkpoints += request.Result.CheckpointsDeleted;
            if (request.Result.OpsDeleted > 0) StoreMetrics.CompactedOps.Add(request.Result.OpsDeleted, metricTags);
            if (!request.More) return new CompactionResult(through, ops, checkpoints);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredOp>> ReadOpsAsync(
        string documentId, long afterRev, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentOutOfRangeException.ThrowIfNegative(afterRev);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        return await ReadOpsAsync(connection, null, documentId, afterRev, maxCount, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task SaveAccessAsync(string documentId, StoredAccess access, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(access);
        return Enqueue(new AccessRequest(documentId, access, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<StoredAccess?> LoadAccessAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT owner_gen, edit_gen, view_gen, created_at FROM access WHERE doc = $doc;";
        command.Parameters.AddWithValue("$doc", documentId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredAccess(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)));
    }

    /// <inheritdoc />
    public async Task<int> CountOwnedAsync(string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM owned WHERE owner = $owner;";
        command.Parameters.AddWithValue("$owner", owner);
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <inheritdoc />
    public Task AddOwnedAsync(string owner, string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        return Enqueue(new OwnedRequest(owner, documentId, cancellationToken));
    }

    /// <inheritdoc />
    public Task SaveRevocationAsync(StoredRevocation revocation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        ArgumentException.ThrowIfNullOrEmpty(revocation.Kind);
        ArgumentException.ThrowIfNullOrEmpty(revocation.Value);
        return Enqueue(new RevocationRequest(revocation, cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevocation>> LoadRevocationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, value, revoked_at, expires_at FROM revocations WHERE expires_at > $now ORDER BY kind, value;";
        command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<StoredRevocation>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            result.Add(new StoredRevocation(reader.GetString(0), reader.GetString(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        return result;
    }

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        var version = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        if (version != SqliteSchema.CurrentVersion)
        {
            throw new InvalidOperationException($"The document database at {DatabasePath} has schema version {version}, expected {SqliteSchema.CurrentVersion}.");
        }
    }

    /// <summary>Writes everything already queued, then closes the file; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await writer.StopAsync().ConfigureAwait(false);
        using (var connection = new SqliteConnection(readerConnectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        SqliteStoreLog.LogStoreClosed(logger, DatabasePath, writer.CommittedTransactions);
    }

    private Task Enqueue(WriteRequest request)
    {
        ThrowIfUnusable();
        if (!writer.TryEnqueue(request))
        {
            ThrowIfUnusable();
            throw new ObjectDisposedException(nameof(SqliteDocumentStore));
        }

        return request.Completion;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (writer.Crash is { } crash)
        {
            throw new InvalidOperationException("The document store writer stopped after an unexpected error.", crash);
        }
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        ThrowIfUnusable();
        var connection = new SqliteConnection(readerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<IReadOnlyList<StoredOp>> ReadOpsAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string documentId, long afterRev, int limit, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT rev, client_id, seq, op FROM ops WHERE doc = $doc AND rev > $after ORDER BY rev LIMIT $limit;";
        command.Parameters.AddWithValue("$doc", documentId);
        command.Parameters.AddWithValue("$after", afterRev);
        command.Parameters.AddWithValue("$limit", limit);
        var ops = new List<StoredOp>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ops.Add(new StoredOp(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        }

        return ops;
    }
}
