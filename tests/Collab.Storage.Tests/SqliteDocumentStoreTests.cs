using Collab.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Storage.Tests;

/// <summary>The store contract on a real SQLite file in a temporary folder, plus what only SQLite has.</summary>
public sealed class SqliteDocumentStoreTests(ITestOutputHelper output) : DocumentStoreContract
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "collab-storage-tests", Guid.NewGuid().ToString("N"));

    private SqliteDocumentStoreOptions Options => new() { DataPath = folder };

    private SqliteDocumentStore Sqlite => (SqliteDocumentStore)Store;

    protected override Task<IDocumentStore> CreateStoreAsync() => Task.FromResult<IDocumentStore>(new SqliteDocumentStore(Options));

    protected override async Task<IDocumentStore> ReopenStoreAsync(IDocumentStore current)
    {
        await ((SqliteDocumentStore)current).DisposeAsync();
        return new SqliteDocumentStore(Options);
    }

    protected override async Task DestroyStoreAsync(IDocumentStore current)
    {
        await ((SqliteDocumentStore)current).DisposeAsync();
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task The_database_file_is_created_in_the_data_folder_in_WAL_mode()
    {
        await Store.AppendAsync("doc", Ops(1, 1));

        Assert.Equal(Path.Combine(folder, "collab.db"), Sqlite.DatabasePath);
        Assert.True(File.Exists(Sqlite.DatabasePath));
        await using var other = new SqliteConnection($"Data Source={Sqlite.DatabasePath};Mode=ReadOnly;Pooling=False");
        await other.OpenAsync();
        await using var command = other.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA user_version;";
        Assert.Equal(5L, (long?)await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_new_data_folder_and_database_are_private_to_the_account_and_so_are_the_wal_and_shm()
    {
        await Store.AppendAsync("doc", Ops(1, 1));
        if (OperatingSystem.IsWindows()) return;

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        foreach (var file in new[] { Sqlite.DatabasePath, Sqlite.DatabasePath + "-wal", Sqlite.DatabasePath + "-shm" })
        {
            Assert.True(File.Exists(file), file);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
    }

    [Fact]
    public async Task The_writer_connection_syncs_fully_and_waits_for_locks()
    {
        // synchronous and busy_timeout are per connection, so they are read on a connection set up the way the
        // writer sets up its own (SqliteSchema.Initialize); journal_mode is a property of the file.
        await Store.AppendAsync("doc", Ops(1, 1));
        await using var writerLike = new SqliteConnection(SqliteSchema.WriterConnectionString(Sqlite.DatabasePath, Options.BusyTimeout));
        await writerLike.OpenAsync();
        SqliteSchema.Initialize(writerLike, Options.BusyTimeout, maxSizeBytes: 0);

        Assert.Equal(2L, Pragma(writerLike, "synchronous")); // FULL
        Assert.Equal(5000L, Pragma(writerLike, "busy_timeout"));
        await using var reader = await OpenReadOnlyAsync();
        Assert.Equal("wal", Pragma(reader, "journal_mode"));
    }

    [Fact]
    public async Task Concurrent_appends_are_group_committed_in_fewer_transactions()
    {
        const int appends = 200;
        using var transactions = new StoreTransactions(Sqlite.DatabasePath);

        // Issued together, as 200 grains committing at once would.
        await Task.WhenAll(Enumerable.Range(0, appends).Select(d => Store.AppendAsync($"doc-{d}", [Op(1)])));

        output.WriteLine($"{appends} concurrent appends committed in {transactions.Count} transactions");
        Assert.InRange(transactions.Count, 1, appends / 2);
        for (var d = 0; d < appends; d += 37)
        {
            Assert.Equal(1, (await Store.LoadAsync($"doc-{d}")).Rev);
        }
    }

    [Fact]
    public async Task A_conflict_fails_only_its_own_request_in_a_group_commit()
    {
        await Store.AppendAsync("taken", Ops(1, 1));
        using var transactions = new StoreTransactions(Sqlite.DatabasePath);

        var good = Enumerable.Range(0, 50).Select(d => Store.AppendAsync($"doc-{d}", Ops(1, 3))).ToList();
        var conflicting = Store.AppendAsync("taken", Ops(1, 2, "intruder"));
        var sameDocLater = Store.AppendAsync("taken", Ops(2, 1, "owner"));
        good.AddRange(Enumerable.Range(50, 50).Select(d => Store.AppendAsync($"doc-{d}", Ops(1, 3))));

        await Task.WhenAll(good);
        await sameDocLater;
        var conflict = await Assert.ThrowsAsync<RevisionConflictException>(() => conflicting);

        Assert.Equal(1, conflict.StoredRev);
        Assert.InRange(transactions.Count, 1, 101);
        var taken = await Store.LoadAsync("taken");
        Assert.Equal(["c1", "owner"], taken.Tail.Select(o => o.ClientId));
        Assert.Equal(3, (await Store.LoadAsync("doc-99")).Rev);
    }

    [Fact]
    public async Task Two_store_instances_on_one_file_cannot_both_extend_a_document()
    {
        await using var second = new SqliteDocumentStore(Options);

        var outcomes = await Outcomes(
        [
            Task.Run(() => Store.AppendAsync("doc", Ops(1, 2, "first"))),
            Task.Run(() => second.AppendAsync("doc", Ops(1, 2, "second"))),
        ]);

        Assert.Single(outcomes, e => e is null);
        Assert.IsType<RevisionConflictException>(Assert.Single(outcomes, e => e is not null));
        Assert.Equal(2, (await second.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Committed_appends_are_readable_by_a_new_store_even_if_the_old_one_was_never_closed()
    {
        // The old instance stays open (as after a crash nobody cleaned up): the data must already be in the file.
        await Store.AppendAsync("doc", Ops(1, 3));
        await Store.SaveSnapshotAsync("doc", Snapshot(2, "ab"));

        await using var fresh = new SqliteDocumentStore(Options);
        var loaded = await fresh.LoadAsync("doc");

        Assert.Equal("ab", loaded.Snapshot.Text);
        Assert.Equal([3L], loaded.Tail.Select(o => o.Rev));
    }

    [Fact]
    public async Task Opening_twice_keeps_the_schema_and_data()
    {
        await Store.AppendAsync("doc", Ops(1, 1));
        await ReopenAsync();
        await ReopenAsync();

        Assert.Equal(1, (await Store.LoadAsync("doc")).Rev);
        await Store.PingAsync();
    }

    [Fact]
    public async Task Dispose_writes_what_is_queued_and_later_calls_throw_ObjectDisposed()
    {
        var queued = Enumerable.Range(0, 20).Select(d => Store.AppendAsync($"doc-{d}", Ops(1, 2))).ToArray();

        await Sqlite.DisposeAsync();
        await Sqlite.DisposeAsync();

        await Task.WhenAll(queued);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.AppendAsync("doc-0", Ops(3, 1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.SaveSnapshotAsync("doc-0", Snapshot(2, "x")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.LoadAsync("doc-0"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.ReadOpsAsync("doc-0", 0, 10));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.PingAsync());
        await ReopenAsync();
        Assert.Equal(2, (await Store.LoadAsync("doc-19")).Rev);
    }

    [Fact]
    public async Task An_append_cancelled_before_it_is_written_is_not_stored()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.AppendAsync("doc", Ops(1, 1), cancellationToken: cancelled.Token));

        Assert.Equal(0, (await Store.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Ops_are_stored_with_their_commit_time()
    {
        var before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Store.AppendAsync("doc", Ops(1, 2));
        var after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // WAL lets this reader see the committed rows while the store's writer keeps the file open.
        await using var reader = await OpenReadOnlyAsync();
        await using var command = reader.CreateCommand();
        command.CommandText = "SELECT committed_at FROM ops WHERE doc = 'doc' ORDER BY rev;";
        await using var rows = await command.ExecuteReaderAsync();
        var times = new List<long>();
        while (await rows.ReadAsync())
        {
            times.Add(rows.GetInt64(0));
        }

        Assert.Equal(2, times.Count);
        Assert.All(times, t => Assert.InRange(t, before, after));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void An_empty_data_path_fails_fast_naming_the_setting(string dataPath)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new SqliteDocumentStore(new SqliteDocumentStoreOptions { DataPath = dataPath }));

        Assert.Contains("Collab:Storage:DataPath", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_invalid_options_fail_fast_naming_each_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new SqliteDocumentStore(
            Microsoft.Extensions.Options.Options.Create(new SqliteDocumentStoreOptions
            {
                DataPath = folder,
                FileName = "sub/dir.db",
                MaxBatchRequests = 0,
                BusyTimeout = TimeSpan.FromSeconds(-1),
            }),
            Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteDocumentStore>.Instance));

        Assert.Contains("Collab:Storage:FileName", error.Message, StringComparison.Ordinal);
        Assert.Contains("Collab:Storage:MaxBatchRequests", error.Message, StringComparison.Ordinal);
        Assert.Contains("Collab:Storage:BusyTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_options_put_collab_db_in_the_data_folder()
    {
        var defaults = new SqliteDocumentStoreOptions();

        Assert.Equal(Path.GetFullPath(Path.Combine("data", "collab.db")), defaults.DatabasePath);
        Assert.Null(defaults.Validate());
    }

    [Fact]
    public async Task A_database_from_a_newer_version_is_refused()
    {
        await using (var other = new SqliteConnection($"Data Source={Sqlite.DatabasePath};Mode=ReadWrite;Pooling=False"))
        {
            await other.OpenAsync();
            await using var command = other.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99;";
            await command.ExecuteNonQueryAsync();
        }

        await Assert.ThrowsAsync<InvalidOperationException>(() => Store.PingAsync());

        await Sqlite.DisposeAsync();

        var error = Assert.Throws<InvalidOperationException>(() => new SqliteDocumentStore(Options));
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Compaction_gives_the_freed_pages_back_to_the_file_system()
    {
        // 80 ops of 100 KB (8 MB) on a document whose text ends empty; a checkpoint at the end.
        var big = $"[\"{new string('z', 100_000)}\"]";
        for (var rev = 1; rev <= 80; rev++) await Store.AppendAsync("churn", [Op(rev, op: big)]);
        await Store.SaveSnapshotAsync("churn", Snapshot(80, ""), checkpoint: true);
        var before = await Store.MeasureStoreAsync();
        await using (var probe = await OpenReadOnlyAsync()) Assert.Equal(2L, Pragma(probe, "auto_vacuum")); // incremental

        await Store.CompactAsync("churn", new CompactionPolicy(DateTimeOffset.UtcNow.AddDays(1), long.MaxValue, 1));

        var after = await Store.MeasureStoreAsync();
        var fileBytes = new FileInfo(Sqlite.DatabasePath).Length + new FileInfo(Sqlite.DatabasePath + "-wal").Length;
        output.WriteLine($"store {before.Bytes} bytes before compaction, {after.Bytes} after ({fileBytes} on disk, {after.FreeBytes} free)");
        Assert.True(before.Bytes > 8_000_000, $"{before.Bytes}");
        Assert.True(after.Bytes < 1_000_000, $"{after.Bytes} bytes after compaction");
        Assert.True(fileBytes < 1_000_000, $"{fileBytes} bytes on disk after compaction");
        await using var reader = await OpenReadOnlyAsync();
        Assert.Equal(2L, Pragma(reader, "auto_vacuum")); // incremental
        Assert.Equal(80, (await Store.LoadAsync("churn")).Rev);
    }

    [Fact]
    public async Task A_full_store_refuses_appends_keeps_every_committed_op_and_accepts_writes_again_once_compaction_frees_space()
    {
        await Sqlite.DisposeAsync();
        var limited = new SqliteDocumentStoreOptions { DataPath = folder, MaxSizeBytes = 512 * 1024 };
        await using var store = new SqliteDocumentStore(limited);
        var op = $"[\"{new string('q', 20_000)}\"]";
        long committed = 0;
        SqliteException? full = null;
        for (var rev = 1; rev <= 100 && full is null; rev++)
        {
            try
            {
                await store.AppendAsync("filler", [Op(rev, op: op)]);
                committed = rev;
            }
            catch (SqliteException e)
            {
                full = e;
            }
        }

        Assert.NotNull(full);
        Assert.True(full.SqliteErrorCode == 13, $"SQLITE_FULL expected: {full.SqliteErrorCode} {full.SqliteExtendedErrorCode} {full.Message}");
        output.WriteLine($"{committed} appends of 20 KB fit in 512 KiB; then: {full.Message}");
        Assert.InRange(committed, 10, 30);
        var size = await store.MeasureStoreAsync();
        Assert.Equal(512 * 1024, size.LimitBytes);
        // Full stays full: the next append fails the same way, nothing half-written.
        await Assert.ThrowsAsync<SqliteException>(() => store.AppendAsync("filler", [Op(committed + 1, op: op)]));
        var loaded = await store.LoadAsync("filler");
        Assert.Equal(committed, loaded.Rev);
        Assert.All(loaded.Tail, o => Assert.Equal(op, o.Op));

        // A checkpoint (tiny text) and a compaction free the pages; writing works again.
        await store.SaveSnapshotAsync("filler", Snapshot(committed, "short"), checkpoint: true);
        await store.CompactAsync("filler", new CompactionPolicy(DateTimeOffset.UtcNow.AddDays(1), long.MaxValue, 1));
        await store.AppendAsync("filler", [Op(committed + 1, op: op)]);
        Assert.Equal(committed + 1, (await store.LoadAsync("filler")).Rev);

        await using var check = new SqliteConnection($"Data Source={limited.DatabasePath};Mode=ReadOnly;Pooling=False");
        await check.OpenAsync();
        Assert.Equal("ok", Pragma(check, "integrity_check"));
    }

    private async Task<SqliteConnection> OpenReadOnlyAsync()
    {
        var connection = new SqliteConnection($"Data Source={Sqlite.DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        return connection;
    }

    private static object? Pragma(SqliteConnection connection, string name)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA {name};";
        return command.ExecuteScalar();
    }
}
