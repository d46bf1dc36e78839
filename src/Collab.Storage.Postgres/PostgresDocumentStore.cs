using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;

namespace Collab.Storage.Postgres;

/// <summary>
/// The cluster document store: the op log and snapshots in PostgreSQL, shared by every silo. Each append is one statement
/// (one round trip, one commit) fenced by the stored revision and the (doc, rev) primary key; concurrent commits of
/// different documents share WAL flushes inside PostgreSQL. The schema is created and migrated on first use.
/// </summary>
public sealed class PostgresDocumentStore : IDocumentStore, IAsyncDisposable
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly NpgsqlDataSource dataSource;
    private readonly PostgresStatements sql;
    private readonly ILogger logger;
    private readonly KeyValuePair<string, object?>[] metricTags;
    private readonly Lock initializationLock = new();
    private Task<int>? initialization;
    private int disposed;

    /// <summary>Creates the store from validated options; fails fast (naming the setting) when they are invalid. Connects on first use.</summary>
    public PostgresDocumentStore(IOptions<PostgresDocumentStoreOptions> options, ILogger<PostgresDocumentStore> logger)
        : this(Validated(options), logger, configureDataSource: null)
    {
    }

    /// <summary>
    /// Creates the store without dependency injection, or from a factory registration that needs to shape the connections:
    /// <paramref name="configureDataSource"/> runs on the Npgsql data source builder before it is built, for example to
    /// supply an Entra access token as the password with <c>UsePeriodicPasswordProvider</c>.
    /// </summary>
    public PostgresDocumentStore(
        PostgresDocumentStoreOptions options, ILogger<PostgresDocumentStore>? logger = null, Action<NpgsqlDataSourceBuilder>? configureDataSource = null)
        : this(Validated(Options.Create(options ?? throw new ArgumentNullException(nameof(options)))),
            (ILogger?)logger ?? NullLogger<PostgresDocumentStore>.Instance, configureDataSource)
    {
    }

    private PostgresDocumentStore(PostgresDocumentStoreOptions options, ILogger logger, Action<NpgsqlDataSourceBuilder>? configureDataSource)
    {
        ArgumentNullException.ThrowIfNull(logger);
        this.logger = logger;
        Schema = options.Schema;
        sql = new PostgresStatements(Schema);
        var builder = new NpgsqlDataSourceBuilder(options.PostgresConnectionString);
        builder.ConnectionStringBuilder.ApplicationName ??= "Collab";
        // Idle pooled connections are checked every second (unless the connection string says otherwise): after the
        // server restarts, the dead ones are gone before they are handed out, so the first writes after an outage
        // succeed instead of each failing once on a connection the restart cut (docs/operations.md).
        if (builder.ConnectionStringBuilder.KeepAlive == 0) builder.ConnectionStringBuilder.KeepAlive = 1;
        configureDataSource?.Invoke(builder);
        dataSource = builder.Build();
        metricTags = StoreMetrics.Tags("postgresql", $"{builder.ConnectionStringBuilder.Database}|{Schema}");
    }

    /// <summary>The schema holding the store's tables.</summary>
    public string Schema { get; }

    /// <summary>
    /// Connects and creates or migrates the schema; safe to call any number of times and from any number of processes at once.
    /// Every other method does this on first use; a host calls it at start-up to fail fast. A failed attempt is retried by the next call.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (Volatile.Read(ref initialization) is { IsCompletedSuccessfully: true })
        {
            return;
        }

        Task<int> attempt;
        lock (initializationLock)
        {
            if (initialization is null || initialization.IsFaulted || initialization.IsCanceled)
            {
                // Not tied to one caller's token: callers share the attempt, and each stops waiting on its own token.
                initialization = Task.Run(() => InitializeCoreAsync(CancellationToken.None), CancellationToken.None);
            }

            attempt = initialization;
        }

        await attempt.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task AppendAsync(string documentId, IReadOnlyList<StoredOp> ops, long writerEpoch = 0, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(ops);
        var count = ops.Count;
        if (count == 0)
        {
            throw new ArgumentException("An append needs at least one op.", nameof(ops));
        }

        var revs = new long[count];
        var clientIds = new string[count];
        var seqs = new long[count];
        var texts = new string[count];
        for (var i = 0; i < count; i++)
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

            (revs[i], clientIds[i], seqs[i], texts[i]) = (op.Rev, op.ClientId, op.Seq, op.Op);
        }

        if (revs[0] < 1)
        {
            throw new ArgumentException($"Revisions start at 1; the first op has revision {revs[0]}.", nameof(ops));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(writerEpoch);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var expected = revs[0] - 1;
        long stored;
        try
        {
            await using var command = dataSource.CreateCommand(sql.Append);
            command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = revs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { Value = clientIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = seqs, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { Value = texts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = writerEpoch, NpgsqlDbType = NpgsqlDbType.Bigint });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var inserted = reader.GetInt64(0);
            stored = reader.GetInt64(1);
            var epoch = reader.GetInt64(2);
            if (inserted == count)
            {
                Committed();
                return;
            }

            if (epoch != writerEpoch)
            {
                PostgresStoreLog.LogAppendFenced(logger, documentId, writerEpoch, epoch);
                throw new WriterFencedException(documentId, writerEpoch, epoch);
            }
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            // Another writer passed the same check at the same time and committed first: the primary key fenced it.
            stored = await HeadRevAsync(documentId, cancellationToken).ConfigureAwait(false);
        }

        PostgresStoreLog.LogAppendConflict(logger, documentId, expected, stored);
        throw new RevisionConflictException(documentId, expected, stored);
    }

    /// <inheritdoc />
    public async Task<long> ClaimWriterAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.ClaimWriter);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long epoch ? epoch : 0;
    }

    /// <inheritdoc />
    public async Task<long> GetRevisionAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        return await HeadRevAsync(documentId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task SaveSnapshotAsync(string documentId, DocumentSnapshot snapshot, bool checkpoint = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(snapshot.Text, nameof(snapshot));
        ArgumentNullException.ThrowIfNull(snapshot.Clients, nameof(snapshot));
        ArgumentOutOfRangeException.ThrowIfNegative(snapshot.Rev, nameof(snapshot));
        byte[] text;
        try
        {
            text = StrictUtf8.GetBytes(snapshot.Text);
        }
        catch (EncoderFallbackException exception)
        {
            throw new ArgumentException("The snapshot text contains a lone surrogate and cannot be stored as UTF-8.", nameof(snapshot), exception);
        }

        var clients = ClientMarksJson.Serialize(snapshot.Clients);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.UpsertSnapshot);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = snapshot.Rev, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = text, NpgsqlDbType = NpgsqlDbType.Bytea });
        command.Parameters.Add(new NpgsqlParameter { Value = clients, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = checkpoint, NpgsqlDbType = NpgsqlDbType.Boolean });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Committed();
    }

    /// <inheritdoc />
    public async Task SaveAccessAsync(string documentId, StoredAccess access, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(access);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.UpsertAccess);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = access.OwnerGeneration, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = access.EditGeneration, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = access.ViewGeneration, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = access.CreatedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Committed();
    }

    /// <inheritdoc />
    public async Task<StoredAccess?> LoadAccessAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.LoadAccess);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) return null;
        return new StoredAccess(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3));
    }

    /// <inheritdoc />
    public async Task<int> CountOwnedAsync(string owner, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.CountOwned);
        command.Parameters.Add(new NpgsqlParameter { Value = owner, NpgsqlDbType = NpgsqlDbType.Text });
        return (int)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task AddOwnedAsync(string owner, string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.InsertOwned);
        command.Parameters.Add(new NpgsqlParameter { Value = owner, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Committed();
    }

    /// <inheritdoc />
    public async Task SaveRevocationAsync(StoredRevocation revocation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(revocation);
        ArgumentException.ThrowIfNullOrEmpty(revocation.Kind);
        ArgumentException.ThrowIfNullOrEmpty(revocation.Value);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.UpsertRevocation);
        command.Parameters.Add(new NpgsqlParameter { Value = revocation.Kind, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = revocation.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = revocation.RevokedAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = revocation.ExpiresAt.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        Committed();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredRevocation>> LoadRevocationsAsync(DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.LoadRevocations);
        command.Parameters.Add(new NpgsqlParameter { Value = now.ToUniversalTime(), NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<StoredRevocation>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            result.Add(new StoredRevocation(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<DateTimeOffset>(3)));
        return result;
    }

    /// <summary>Each append and snapshot is one statement, so one transaction of one request.</summary>
    private void Committed()
    {
        StoreMetrics.Transactions.Add(1, metricTags);
        StoreMetrics.BatchRequests.Record(1, metricTags);
    }

    /// <inheritdoc />
    public async Task<StoredDocument> LoadAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.Load);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var snapshot = DocumentSnapshot.Empty;
        var tail = new List<StoredOp>();
        long checkpointRev = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (reader.GetInt32(0) == 2)
            {
                checkpointRev = reader.GetInt64(1);
            }
            else if (reader.GetInt32(0) == 0)
            {
                var text = StrictUtf8.GetString(await reader.GetFieldValueAsync<byte[]>(2, cancellationToken).ConfigureAwait(false));
                snapshot = new DocumentSnapshot(reader.GetInt64(1), text, ClientMarksJson.Deserialize(reader.GetString(3)));
            }
            else
            {
                tail.Add(new StoredOp(reader.GetInt64(1), reader.GetString(4), reader.GetInt64(5), reader.GetString(3)));
            }
        }

        return new StoredDocument(snapshot, tail) { CheckpointRev = checkpointRev };
    }

    /// <inheritdoc />
    public async Task<bool> ExistsAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.Exists);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <inheritdoc />
    public async Task<DocumentStorageSize> MeasureAsync(string documentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.Measure);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return new DocumentStorageSize(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4),
            reader.GetInt64(5), reader.GetInt64(6));
    }

    /// <inheritdoc />
    public async Task<StoreSize> MeasureStoreAsync(CancellationToken cancellationToken = default)
    {
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.MeasureStore);
        command.Parameters.Add(new NpgsqlParameter { Value = Schema, NpgsqlDbType = NpgsqlDbType.Text });
        var size = new StoreSize((long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!, 0, null);
        StoreMetrics.ReportSize(size, metricTags);
        return size;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ListCompactableAsync(
        DateTimeOffset committedBefore, string? afterDocumentId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.ListCompactable);
        command.Parameters.Add(new NpgsqlParameter { Value = afterDocumentId ?? "", NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = committedBefore.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)limit, NpgsqlDbType = NpgsqlDbType.Bigint });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<string>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) result.Add(reader.GetString(0));
        return result;
    }

    /// <summary>Ops deleted per transaction, so a long log is folded in steps that never hold locks long.</summary>
    private const long CompactionStep = 2_000;

    /// <inheritdoc />
    public async Task<CompactionResult> CompactAsync(string documentId, CompactionPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(policy.KeepCheckpointEvery, nameof(policy));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(policy.MaxOpBytes, nameof(policy));
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        long through = 0, ops = 0, checkpoints = 0;
        while (true)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            long point;
            await using (var command = new NpgsqlCommand(sql.CompactionPoint, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = policy.RetainSince.UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = policy.MaxOpBytes, NpgsqlDbType = NpgsqlDbType.Bigint });
                if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not long found || found <= 0)
                    return new CompactionResult(through, ops, checkpoints);
                point = found;
            }

            int deleted, thinned;
            await using (var command = new NpgsqlCommand(sql.FoldOps, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = point, NpgsqlDbType = NpgsqlDbType.Bigint });
                command.Parameters.Add(new NpgsqlParameter { Value = CompactionStep, NpgsqlDbType = NpgsqlDbType.Bigint });
                deleted = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var command = new NpgsqlCommand(sql.ThinCheckpoints, connection, transaction))
            {
                command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
                command.Parameters.Add(new NpgsqlParameter { Value = point, NpgsqlDbType = NpgsqlDbType.Bigint });
                command.Parameters.Add(new NpgsqlParameter { Value = policy.KeepCheckpointEvery, NpgsqlDbType = NpgsqlDbType.Bigint });
                thinned = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            if (deleted > 0) StoreMetrics.CompactedOps.Add(deleted, metricTags);
            through = Math.Max(through, point);
            ops += deleted;
            checkpoints += thinned;
            if (deleted < CompactionStep) return new CompactionResult(through, ops, checkpoints);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredOp>> ReadOpsAsync(
        string documentId, long afterRev, int maxCount, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        ArgumentOutOfRangeException.ThrowIfNegative(afterRev);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxCount);
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(sql.ReadOps);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = afterRev, NpgsqlDbType = NpgsqlDbType.Bigint });
        command.Parameters.Add(new NpgsqlParameter { Value = (long)maxCount, NpgsqlDbType = NpgsqlDbType.Bigint });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var ops = new List<StoredOp>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            ops.Add(new StoredOp(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3)));
        }

        return ops;
    }

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken = default)
    {
        // Ready means migrated too: a schema this build cannot use keeps /readyz failing with the reason.
        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        await using var command = dataSource.CreateCommand(PostgresStatements.Ping);
        await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes the store's connections; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await dataSource.DisposeAsync().ConfigureAwait(false);
        PostgresStoreLog.LogStoreClosed(logger, Schema);
    }

    private async Task<int> InitializeCoreAsync(CancellationToken cancellationToken)
    {
        var version = await PostgresSchema.MigrateAsync(dataSource, Schema, logger, cancellationToken).ConfigureAwait(false);
        await using (var command = dataSource.CreateCommand("SHOW synchronous_commit;"))
        {
            // 'local' and stronger make a commit durable on this server before it returns; only 'off' may lose acked edits.
            var setting = (string?)await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (setting == "off")
            {
                PostgresStoreLog.LogWeakDurability(logger, setting);
            }
        }

        var connection = new NpgsqlConnectionStringBuilder(dataSource.ConnectionString);
        PostgresStoreLog.LogStoreReady(logger, connection.Host, connection.Database, Schema, version);
        return version;
    }

    private async Task<long> HeadRevAsync(string documentId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql.HeadRev);
        command.Parameters.Add(new NpgsqlParameter { Value = documentId, NpgsqlDbType = NpgsqlDbType.Text });
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);

    private static PostgresDocumentStoreOptions Validated(IOptions<PostgresDocumentStoreOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        if (settings.Validate() is { } error)
        {
            throw new OptionsValidationException(PostgresDocumentStoreOptions.SectionName, typeof(PostgresDocumentStoreOptions), [error]);
        }

        return settings;
    }
}
