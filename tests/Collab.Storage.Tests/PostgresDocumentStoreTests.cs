using Collab.Storage.Postgres;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Storage.Tests;

/// <summary>The store contract on a real PostgreSQL server (one per test run, one schema per test), plus what only PostgreSQL has.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresDocumentStoreTests(PostgresServer server, ITestOutputHelper output) : DocumentStoreContract
{
    private readonly string schema = "t_" + Guid.NewGuid().ToString("N");

    private PostgresDocumentStore Postgres => (PostgresDocumentStore)Store;

    protected override async Task<IDocumentStore> CreateStoreAsync() => await OpenAsync();

    protected override async Task<IDocumentStore> ReopenStoreAsync(IDocumentStore current)
    {
        await ((PostgresDocumentStore)current).DisposeAsync();
        return await OpenAsync();
    }

    protected override async Task DestroyStoreAsync(IDocumentStore current)
    {
        await ((PostgresDocumentStore)current).DisposeAsync();
        await server.ScalarAsync($"DROP SCHEMA IF EXISTS \"{schema}\" CASCADE;");
    }

    [Fact]
    public async Task Every_append_and_snapshot_is_counted_as_one_transaction_of_this_database_and_schema()
    {
        var database = new NpgsqlConnectionStringBuilder(server.ConnectionString).Database;
        using var transactions = new StoreTransactions($"{database}|{schema}");

        await Store.AppendAsync("doc", Ops(1, 3));
        await Store.AppendAsync("doc", Ops(4, 1));
        await Store.SaveSnapshotAsync("doc", Snapshot(4, "four"));
        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", Ops(2, 1)));

        Assert.Equal(3, transactions.Count);
    }

    [Fact]
    public async Task Two_stores_on_separate_connection_pools_racing_for_a_revision_never_both_win_nor_store_part_of_a_batch()
    {
        await using var second = await OpenAsync();
        for (var round = 0; round < 20; round++)
        {
            var doc = $"race-{round}";
            var (firstSize, secondSize) = (1 + round % 3, 3 - round % 3);
            using var go = new ManualResetEventSlim();
            var attempts = new[]
            {
                Task.Run(async () => { go.Wait(); await Store.AppendAsync(doc, Ops(1, firstSize, "first")); }),
                Task.Run(async () => { go.Wait(); await second.AppendAsync(doc, Ops(1, secondSize, "second")); }),
            };
            go.Set();

            var outcomes = await Outcomes(attempts);

            var winner = Assert.Single(Enumerable.Range(0, 2), i => outcomes[i] is null);
            var loser = Assert.IsType<RevisionConflictException>(outcomes[1 - winner]);
            var winnerSize = winner == 0 ? firstSize : secondSize;
            Assert.Equal(winnerSize, loser.StoredRev);
            var loaded = await second.LoadAsync(doc);
            Assert.Equal(Ops(1, winnerSize, winner == 0 ? "first" : "second"), loaded.Tail);
        }
    }

    [Fact]
    public async Task A_writer_that_passes_the_revision_check_while_a_rival_commits_is_fenced_by_the_primary_key()
    {
        await Store.AppendAsync("doc", Ops(1, 2));

        // The rival has inserted revision 3 but not committed: the store's check still sees revision 2 and passes,
        // so only the primary key can stop it. It must wait for the rival and then fail without storing revision 4.
        await using var rival = new NpgsqlConnection(server.ConnectionString);
        await rival.OpenAsync();
        await using var transaction = await rival.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO \"{schema}\".ops (doc, rev, client_id, seq, op) VALUES ('doc', 3, 'rival', 1, '[\"r\"]');", rival, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var append = Store.AppendAsync("doc", Ops(3, 2, "zombie"));
        await Task.Delay(300);
        Assert.False(append.IsCompleted, "The append should wait for the rival's uncommitted row.");
        await transaction.CommitAsync();

        var conflict = await Assert.ThrowsAsync<RevisionConflictException>(() => append);
        Assert.Equal(2, conflict.ExpectedRev);
        Assert.Equal(3, conflict.StoredRev);
        var loaded = await Store.LoadAsync("doc");
        Assert.Equal(["c1", "c1", "rival"], loaded.Tail.Select(o => o.ClientId));
    }

    [Fact]
    public async Task A_writer_racing_a_rival_that_rolls_back_succeeds()
    {
        await using var rival = new NpgsqlConnection(server.ConnectionString);
        await rival.OpenAsync();
        await using var transaction = await rival.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO \"{schema}\".ops (doc, rev, client_id, seq, op) VALUES ('doc', 1, 'rival', 1, '[\"r\"]');", rival, transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var append = Store.AppendAsync("doc", Ops(1, 3));
        await Task.Delay(200);
        await transaction.RollbackAsync();
        await append;

        Assert.Equal(Ops(1, 3), (await Store.LoadAsync("doc")).Tail);
    }

    [Fact]
    public async Task Migrations_are_idempotent_and_safe_when_many_stores_start_at_once()
    {
        var fresh = "m_" + Guid.NewGuid().ToString("N");
        var stores = Enumerable.Range(0, 6).Select(_ => new PostgresDocumentStore(server.Options(fresh))).ToArray();
        try
        {
            await Task.WhenAll(stores.Select(s => Task.Run(() => s.InitializeAsync())));
            await stores[0].AppendAsync("doc", Ops(1, 2));
            await Task.WhenAll(stores.Select(s => s.InitializeAsync()));

            await using (var later = new PostgresDocumentStore(server.Options(fresh)))
            {
                await later.InitializeAsync();
                Assert.Equal(2, (await later.LoadAsync("doc")).Rev);
            }

            Assert.Equal(5L, await server.ScalarAsync($"SELECT count(*) FROM \"{fresh}\".schema_version;"));
            Assert.Equal(5, await server.ScalarAsync($"SELECT max(version) FROM \"{fresh}\".schema_version;"));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }

            await server.ScalarAsync($"DROP SCHEMA IF EXISTS \"{fresh}\" CASCADE;");
        }
    }

    [Fact]
    public async Task A_batch_of_100_ops_is_one_round_trip()
    {
        using var commands = new CommandCounter();
        await using var store = new PostgresDocumentStore(server.Options(schema), configureDataSource: builder => builder.UseLoggerFactory(commands));
        await store.InitializeAsync();
        await store.AppendAsync("warm-up", Ops(1, 1));
        commands.Reset();

        await store.AppendAsync("doc", Ops(1, 100));

        output.WriteLine(string.Join("\n---\n", commands.Executed));
        Assert.Single(commands.Executed);
        Assert.Equal(100, (await store.LoadAsync("doc")).Tail.Count);
        commands.Reset();
        await Assert.ThrowsAsync<RevisionConflictException>(() => store.AppendAsync("doc", Ops(100, 100)));
        Assert.Single(commands.Executed);
    }

    [Fact]
    public async Task Loading_reads_the_snapshot_and_its_tail_in_one_round_trip()
    {
        using var commands = new CommandCounter();
        await using var store = new PostgresDocumentStore(server.Options(schema), configureDataSource: builder => builder.UseLoggerFactory(commands));
        await store.AppendAsync("doc", Ops(1, 10));
        await store.SaveSnapshotAsync("doc", Snapshot(6, "six"));
        commands.Reset();

        var loaded = await store.LoadAsync("doc");

        Assert.Single(commands.Executed);
        Assert.Equal("six", loaded.Snapshot.Text);
        Assert.Equal([7L, 8L, 9L, 10L], loaded.Tail.Select(o => o.Rev));
    }

    [Fact]
    public async Task Text_with_NUL_and_astral_characters_round_trips_in_snapshots_and_ops()
    {
        const string text = "a\0b 😀 \u0001 end";
        var op = System.Text.Json.JsonSerializer.Serialize(new object[] { text });
        await Store.AppendAsync("doc", [new StoredOp(1, "c", 1, op)]);
        await Store.SaveSnapshotAsync("doc", Snapshot(1, text, ("c", 1, 1)));

        var loaded = await Store.LoadAsync("doc");

        Assert.Equal(text, loaded.Snapshot.Text);
        Assert.Equal(op, (await Store.ReadOpsAsync("doc", 0, 1))[0].Op);
    }

    [Fact]
    public async Task A_snapshot_with_a_lone_surrogate_is_rejected_rather_than_altered()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.SaveSnapshotAsync("doc", Snapshot(1, "bad \ud800 text")));

        Assert.Equal(0, (await Store.LoadAsync("doc")).Snapshot.Rev);
    }

    [Fact]
    public async Task Ops_are_stored_with_their_commit_time()
    {
        var before = (DateTime)(await server.ScalarAsync("SELECT now();"))!;
        await Store.AppendAsync("doc", Ops(1, 2));
        var after = (DateTime)(await server.ScalarAsync("SELECT now();"))!;

        var first = (DateTime)(await server.ScalarAsync($"SELECT min(committed_at) FROM \"{schema}\".ops WHERE doc = 'doc';"))!;
        var last = (DateTime)(await server.ScalarAsync($"SELECT max(committed_at) FROM \"{schema}\".ops WHERE doc = 'doc';"))!;

        Assert.Equal(first, last);
        Assert.InRange(first, before, after);
    }

    [Fact]
    public async Task Commits_wait_for_the_write_ahead_log_to_reach_disk()
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SHOW synchronous_commit;", connection);

        Assert.Equal("on", await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_schema_from_a_newer_version_is_refused()
    {
        await server.ScalarAsync($"INSERT INTO \"{schema}\".schema_version (version) VALUES (99);");

        await using var newer = new PostgresDocumentStore(server.Options(schema));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => newer.InitializeAsync());
        Assert.Contains("99", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<InvalidOperationException>(() => newer.PingAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => newer.LoadAsync("doc"));
    }

    [Fact]
    public async Task Stores_in_different_schemas_of_one_database_are_isolated()
    {
        var other = "o_" + Guid.NewGuid().ToString("N");
        try
        {
            await using var neighbour = new PostgresDocumentStore(server.Options(other));
            await neighbour.AppendAsync("doc", Ops(1, 5));
            await Store.AppendAsync("doc", Ops(1, 1));

            Assert.Equal(1, (await Store.LoadAsync("doc")).Rev);
            Assert.Equal(5, (await neighbour.LoadAsync("doc")).Rev);
        }
        finally
        {
            await server.ScalarAsync($"DROP SCHEMA IF EXISTS \"{other}\" CASCADE;");
        }
    }

    [Fact]
    public async Task After_dispose_every_call_throws_ObjectDisposed()
    {
        await Store.AppendAsync("doc", Ops(1, 1));

        await Postgres.DisposeAsync();
        await Postgres.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.AppendAsync("doc", Ops(2, 1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.SaveSnapshotAsync("doc", Snapshot(1, "x")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.LoadAsync("doc"));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.ReadOpsAsync("doc", 0, 10));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Store.PingAsync());
        await ReopenAsync();
        Assert.Equal(1, (await Store.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Ping_fails_while_the_server_cannot_be_reached_and_tries_again_each_time()
    {
        var closedPort = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Port = ClosedPort(), Timeout = 3 }.ConnectionString;
        await using var unreachable = new PostgresDocumentStore(new PostgresDocumentStoreOptions { PostgresConnectionString = closedPort, Schema = schema });

        await Assert.ThrowsAnyAsync<NpgsqlException>(() => unreachable.PingAsync());
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => unreachable.PingAsync());
    }

    private async Task<PostgresDocumentStore> OpenAsync()
    {
        var store = new PostgresDocumentStore(server.Options(schema));
        await store.InitializeAsync();
        return store;
    }

    private static int ClosedPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Collects the commands Npgsql reports as executed (one log event per round trip of a command or batch).</summary>
    private sealed class CommandCounter : ILoggerFactory, ILogger
    {
        private readonly List<string> executed = [];

        public IReadOnlyList<string> Executed
        {
            get
            {
                lock (executed)
                {
                    return [.. executed];
                }
            }
        }

        public void Reset()
        {
            lock (executed)
            {
                executed.Clear();
            }
        }

        public ILogger CreateLogger(string categoryName) => categoryName == "Npgsql.Command" ? this : NullLogger.Instance;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.Contains("execution completed", StringComparison.OrdinalIgnoreCase))
            {
                lock (executed)
                {
                    executed.Add(message);
                }
            }
        }

        public void Dispose()
        {
        }
    }
}
