using Xunit;

namespace Collab.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="IDocumentStore"/> must have. An implementation's test class derives from this,
/// gives each test a fresh empty store, and can reopen it over the same data to prove durability.
/// </summary>
public abstract partial class DocumentStoreContract : IAsyncLifetime
{
    private IDocumentStore? store;

    /// <summary>The store under test, fresh and empty at the start of each test.</summary>
    protected IDocumentStore Store => store ?? throw new InvalidOperationException("The store is not created yet.");

    /// <summary>Creates a new, empty store that only this test uses.</summary>
    protected abstract Task<IDocumentStore> CreateStoreAsync();

    /// <summary>Disposes <paramref name="current"/> and opens a new instance over the same data.</summary>
    protected abstract Task<IDocumentStore> ReopenStoreAsync(IDocumentStore current);

    /// <summary>Disposes <paramref name="current"/> and deletes everything the test stored.</summary>
    protected abstract Task DestroyStoreAsync(IDocumentStore current);

    public async Task InitializeAsync() => store = await CreateStoreAsync();

    public async Task DisposeAsync()
    {
        if (store is not null)
        {
            await DestroyStoreAsync(store);
        }
    }

    protected async Task ReopenAsync() => store = await ReopenStoreAsync(Store);

    protected static StoredOp Op(long rev, string clientId = "c1", long? seq = null, string? op = null) =>
        new(rev, clientId, seq ?? rev, op ?? $"[\"r{rev}\"]");

    protected static StoredOp[] Ops(long fromRev, int count, string clientId = "c1") =>
        Enumerable.Range(0, count).Select(i => Op(fromRev + i, clientId)).ToArray();

    protected static DocumentSnapshot Snapshot(long rev, string text, params (string ClientId, long Seq, long Rev)[] clients) =>
        new(rev, text, clients.ToDictionary(c => c.ClientId, c => new ClientMark(c.Seq, c.Rev)));

    [Fact]
    public async Task A_document_never_written_loads_empty_at_revision_0()
    {
        var loaded = await Store.LoadAsync("nobody-wrote-me");

        Assert.Equal(0, loaded.Rev);
        Assert.Equal(0, loaded.Snapshot.Rev);
        Assert.Equal(string.Empty, loaded.Snapshot.Text);
        Assert.Empty(loaded.Snapshot.Clients);
        Assert.Empty(loaded.Tail);
    }

    [Fact]
    public async Task Appended_ops_load_back_in_revision_order_with_every_field()
    {
        await Store.AppendAsync("doc", [Op(1, "alice", 7, "[\"hi\"]"), Op(2, "bob", 3, "[2,\"!\"]")]);
        await Store.AppendAsync("doc", [Op(3, "alice", 8, "[1,-1,1]")]);

        var loaded = await Store.LoadAsync("doc");

        Assert.Equal(3, loaded.Rev);
        Assert.Equal(
            [new StoredOp(1, "alice", 7, "[\"hi\"]"), new StoredOp(2, "bob", 3, "[2,\"!\"]"), new StoredOp(3, "alice", 8, "[1,-1,1]")],
            loaded.Tail);
    }

    [Theory]
    [InlineData(1)] // behind: a stale writer
    [InlineData(2)]
    [InlineData(4)] // ahead: a gap would corrupt the history
    public async Task An_append_not_right_after_the_stored_revision_conflicts_and_stores_nothing(long firstRev)
    {
        await Store.AppendAsync("doc", Ops(1, 2));

        var conflict = await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", Ops(firstRev, 3)));

        Assert.Equal("doc", conflict.DocumentId);
        Assert.Equal(firstRev - 1, conflict.ExpectedRev);
        Assert.Equal(2, conflict.StoredRev);
        var loaded = await Store.LoadAsync("doc");
        Assert.Equal([1L, 2L], loaded.Tail.Select(o => o.Rev));
    }

    [Fact]
    public async Task A_batch_whose_first_op_conflicts_adds_none_of_its_ops()
    {
        await Store.AppendAsync("doc", [Op(1)]);

        await Assert.ThrowsAsync<RevisionConflictException>(
            () => Store.AppendAsync("doc", [Op(1, "other"), Op(2, "other"), Op(3, "other")]));

        var loaded = await Store.LoadAsync("doc");
        Assert.Equal([Op(1)], loaded.Tail);
        await Store.AppendAsync("doc", Ops(2, 2));
        Assert.Equal(3, (await Store.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Of_two_writers_racing_for_the_same_revision_exactly_one_wins()
    {
        for (var round = 0; round < 10; round++)
        {
            var doc = $"race-{round}";
            var attempts = Enumerable.Range(0, 2)
                .Select(writer => Task.Run(() => Store.AppendAsync(doc, [Op(1, $"writer{writer}"), Op(2, $"writer{writer}")])))
                .ToArray();

            var outcomes = await Outcomes(attempts);

            Assert.Equal(1, outcomes.Count(e => e is null));
            var loser = Assert.IsType<RevisionConflictException>(Assert.Single(outcomes, e => e is not null));
            Assert.Equal(2, loser.StoredRev);
            var loaded = await Store.LoadAsync(doc);
            Assert.Equal(2, loaded.Tail.Count);
            Assert.Single(loaded.Tail.Select(o => o.ClientId).Distinct());
        }
    }

    [Fact]
    public async Task Of_many_writers_racing_for_the_same_revision_exactly_one_wins()
    {
        var attempts = Enumerable.Range(0, 16)
            .Select(writer => Task.Run(() => Store.AppendAsync("contested", [Op(1, $"writer{writer}")])))
            .ToArray();

        var outcomes = await Outcomes(attempts);

        Assert.Equal(1, outcomes.Count(e => e is null));
        Assert.All(outcomes.Where(e => e is not null), e => Assert.Equal(1, Assert.IsType<RevisionConflictException>(e).StoredRev));
        Assert.Single((await Store.LoadAsync("contested")).Tail);
    }

    [Fact]
    public async Task A_batch_with_non_consecutive_revisions_is_rejected_and_stores_nothing()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync("doc", [Op(1), Op(3)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync("doc", [Op(1), Op(1)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync("doc", [Op(2), Op(1)]));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.AppendAsync("doc", []));

        Assert.Empty((await Store.LoadAsync("doc")).Tail);
    }

    [Fact]
    public async Task Load_returns_the_snapshot_and_only_the_ops_after_it()
    {
        await Store.AppendAsync("doc", Ops(1, 5));
        await Store.SaveSnapshotAsync("doc", Snapshot(3, "abc", ("c1", 3, 3), ("c2", 9, 2)));

        var loaded = await Store.LoadAsync("doc");

        Assert.Equal(3, loaded.Snapshot.Rev);
        Assert.Equal("abc", loaded.Snapshot.Text);
        Assert.Equal(2, loaded.Snapshot.Clients.Count);
        Assert.Equal(new ClientMark(3, 3), loaded.Snapshot.Clients["c1"]);
        Assert.Equal(new ClientMark(9, 2), loaded.Snapshot.Clients["c2"]);
        Assert.Equal([4L, 5L], loaded.Tail.Select(o => o.Rev));
        Assert.Equal(5, loaded.Rev);
    }

    [Fact]
    public async Task A_snapshot_older_than_or_as_old_as_the_stored_one_is_ignored()
    {
        await Store.AppendAsync("doc", Ops(1, 6));
        await Store.SaveSnapshotAsync("doc", Snapshot(4, "four"));

        await Store.SaveSnapshotAsync("doc", Snapshot(2, "two"));
        await Store.SaveSnapshotAsync("doc", Snapshot(4, "four again"));

        var loaded = await Store.LoadAsync("doc");
        Assert.Equal(4, loaded.Snapshot.Rev);
        Assert.Equal("four", loaded.Snapshot.Text);
        Assert.Equal([5L, 6L], loaded.Tail.Select(o => o.Rev));
    }

    [Fact]
    public async Task A_newer_snapshot_replaces_the_stored_one()
    {
        await Store.AppendAsync("doc", Ops(1, 6));
        await Store.SaveSnapshotAsync("doc", Snapshot(2, "two"));
        await Store.SaveSnapshotAsync("doc", Snapshot(5, "five", ("c1", 5, 5)));

        var loaded = await Store.LoadAsync("doc");
        Assert.Equal(5, loaded.Snapshot.Rev);
        Assert.Equal("five", loaded.Snapshot.Text);
        Assert.Equal(new ClientMark(5, 5), loaded.Snapshot.Clients["c1"]);
        Assert.Equal([6L], loaded.Tail.Select(o => o.Rev));
    }

    [Fact]
    public async Task Appends_continue_after_a_snapshot_ahead_of_the_log_at_its_revision_plus_one()
    {
        await Store.SaveSnapshotAsync("imported", Snapshot(10, "imported text"));

        var stale = await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("imported", [Op(1)]));
        Assert.Equal(10, stale.StoredRev);
        await Store.AppendAsync("imported", [Op(11)]);

        var loaded = await Store.LoadAsync("imported");
        Assert.Equal("imported text", loaded.Snapshot.Text);
        Assert.Equal([11L], loaded.Tail.Select(o => o.Rev));
        Assert.Equal(11, loaded.Rev);
    }

    [Fact]
    public async Task Appends_continue_after_a_snapshot_of_the_log_and_history_is_kept()
    {
        await Store.AppendAsync("doc", Ops(1, 3));
        await Store.SaveSnapshotAsync("doc", Snapshot(3, "xyz"));

        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", [Op(3)]));
        await Store.AppendAsync("doc", [Op(4)]);

        Assert.Equal([4L], (await Store.LoadAsync("doc")).Tail.Select(o => o.Rev));
        Assert.Equal([1L, 2L, 3L, 4L], (await Store.ReadOpsAsync("doc", 0, 100)).Select(o => o.Rev));
    }

    [Fact]
    public async Task Documents_are_isolated_from_each_other()
    {
        await Store.AppendAsync("a", Ops(1, 3, "ca"));
        await Store.AppendAsync("b", Ops(1, 1, "cb"));
        await Store.SaveSnapshotAsync("a", Snapshot(2, "snap-a"));

        var a = await Store.LoadAsync("a");
        var b = await Store.LoadAsync("b");
        var c = await Store.LoadAsync("c");

        Assert.Equal(3, a.Rev);
        Assert.Equal(1, b.Rev);
        Assert.Equal(0, b.Snapshot.Rev);
        Assert.All(b.Tail, o => Assert.Equal("cb", o.ClientId));
        Assert.Equal(0, c.Rev);
        await Store.AppendAsync("b", [Op(2)]);
        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("a", [Op(2)]));
    }

    [Fact]
    public async Task ReadOps_pages_through_the_log_in_order()
    {
        await Store.AppendAsync("doc", Ops(1, 10));
        await Store.AppendAsync("other", Ops(1, 10, "x"));

        var pages = new List<IReadOnlyList<StoredOp>>();
        for (long after = 0; ;)
        {
            var page = await Store.ReadOpsAsync("doc", after, 4);
            if (page.Count == 0)
            {
                break;
            }

            pages.Add(page);
            after = page[^1].Rev;
        }

        Assert.Equal([4, 4, 2], pages.Select(p => p.Count));
        Assert.Equal(Ops(1, 10), pages.SelectMany(p => p));
        Assert.Equal([8L, 9L, 10L], (await Store.ReadOpsAsync("doc", 7, 100)).Select(o => o.Rev));
        Assert.Empty(await Store.ReadOpsAsync("doc", 10, 100));
        Assert.Empty(await Store.ReadOpsAsync("missing", 0, 100));
    }

    [Fact]
    public async Task Everything_stored_survives_reopening_the_store()
    {
        await Store.AppendAsync("doc", Ops(1, 4));
        await Store.SaveSnapshotAsync("doc", Snapshot(2, "so far", ("c1", 2, 2)));
        await Store.AppendAsync("other", Ops(1, 1));

        await ReopenAsync();

        var loaded = await Store.LoadAsync("doc");
        Assert.Equal("so far", loaded.Snapshot.Text);
        Assert.Equal(new ClientMark(2, 2), loaded.Snapshot.Clients["c1"]);
        Assert.Equal(Ops(3, 2), loaded.Tail);
        Assert.Equal(1, (await Store.LoadAsync("other")).Rev);
        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", [Op(4)]));
        await Store.AppendAsync("doc", [Op(5)]);
    }

    [Fact]
    public async Task Many_concurrent_appends_to_many_documents_all_land_in_order()
    {
        const int documents = 40;
        const int appendsPerDocument = 25;

        // Like grains: every document appends sequentially, all documents at once.
        await Task.WhenAll(Enumerable.Range(0, documents).Select(d => Task.Run(async () =>
        {
            for (var rev = 1; rev <= appendsPerDocument; rev++)
            {
                await Store.AppendAsync($"doc-{d}", [Op(rev, $"client-{d}", rev, $"[\"{d}:{rev}\"]")]);
            }
        })));

        for (var d = 0; d < documents; d++)
        {
            var loaded = await Store.LoadAsync($"doc-{d}");
            Assert.Equal(
                Enumerable.Range(1, appendsPerDocument).Select(rev => Op(rev, $"client-{d}", rev, $"[\"{d}:{rev}\"]")),
                loaded.Tail);
        }
    }

    [Fact]
    public async Task Unicode_text_round_trips_exactly()
    {
        const string text = "héllo 😀👩‍👩‍👧 漢字かな 한국어 \u0301e\u200d \t\r\n \"quoted\" \\ end";
        var op = System.Text.Json.JsonSerializer.Serialize(new object[] { 3, text, -2 });
        await Store.AppendAsync("unicode", [new StoredOp(1, "clïent-😀", 1, op)]);
        await Store.SaveSnapshotAsync("unicode", Snapshot(1, text, ("clïent-😀", 1, 1)));
        await Store.AppendAsync("unicode", [new StoredOp(2, "c", 1, $"[\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"]")]);

        var loaded = await Store.LoadAsync("unicode");
        var history = await Store.ReadOpsAsync("unicode", 0, 10);

        Assert.Equal(text, loaded.Snapshot.Text);
        Assert.Equal(new ClientMark(1, 1), loaded.Snapshot.Clients["clïent-😀"]);
        Assert.Equal(op, history[0].Op);
        Assert.Equal("clïent-😀", history[0].ClientId);
        Assert.Equal(history[1], Assert.Single(loaded.Tail));
    }

    [Theory]
    [InlineData("notes.v2")]
    [InlineData("team-plan_2025")]
    [InlineData("a")]
    [InlineData("..")]
    [InlineData("_-._-.")]
    [InlineData("Case.Sensitive")]
    public async Task Document_ids_with_dots_dashes_and_underscores_work_and_are_exact(string documentId)
    {
        await Store.AppendAsync(documentId, Ops(1, 2));
        await Store.SaveSnapshotAsync(documentId, Snapshot(1, documentId));

        var loaded = await Store.LoadAsync(documentId);

        Assert.Equal(documentId, loaded.Snapshot.Text);
        Assert.Equal(2, loaded.Rev);
        Assert.Equal(0, (await Store.LoadAsync(documentId + "x")).Rev);
        if (documentId.ToUpperInvariant() != documentId)
        {
            Assert.Equal(0, (await Store.LoadAsync(documentId.ToUpperInvariant())).Rev);
        }
    }

    [Fact]
    public async Task Ping_succeeds_on_a_working_store()
    {
        await Store.PingAsync();
    }

    [Fact]
    public async Task An_access_record_is_absent_until_saved_then_replaced_whole_and_kept_across_a_reopen()
    {
        Assert.Null(await Store.LoadAccessAsync("doc"));
        var created = new DateTimeOffset(2026, 12, 2, 17, 0, 0, 123, TimeSpan.Zero);

        await Store.SaveAccessAsync("doc", new StoredAccess(1, 1, 1, created));
        await Store.SaveAccessAsync("doc", new StoredAccess(1, 3, 2, created));
        await Store.SaveAccessAsync("other", new StoredAccess(5, 6, 7, created));
        await ReopenAsync();

        Assert.Equal(new StoredAccess(1, 3, 2, created), await Store.LoadAccessAsync("doc"));
        Assert.Equal(new StoredAccess(5, 6, 7, created), await Store.LoadAccessAsync("other"));
        Assert.Null(await Store.LoadAccessAsync("never"));
        // Access records live beside the op log, not in it.
        Assert.Equal(0, (await Store.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Documents_are_counted_per_owner_once_each_and_kept_across_a_reopen()
    {
        Assert.Equal(0, await Store.CountOwnedAsync("address:10.0.0.1"));
        await Store.AddOwnedAsync("address:10.0.0.1", "a");
        await Store.AddOwnedAsync("address:10.0.0.1", "b");
        await Store.AddOwnedAsync("address:10.0.0.1", "a");
        await Store.AddOwnedAsync("sub:ada", "a");
        await ReopenAsync();

        Assert.Equal(2, await Store.CountOwnedAsync("address:10.0.0.1"));
        Assert.Equal(1, await Store.CountOwnedAsync("sub:ada"));
        Assert.Equal(0, await Store.CountOwnedAsync("sub:bob"));
        // Ownership is beside the documents: it writes no op.
        Assert.Equal(0, (await Store.LoadAsync("a")).Rev);
    }

    [Fact]
    public async Task Revocations_are_kept_until_they_expire_and_a_second_one_of_the_same_value_replaces_the_first()
    {
        // Real time (to the millisecond both stores keep): stores drop revocations that expired by their own clock.
        var now = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        await Store.SaveRevocationAsync(new StoredRevocation("token", "jti-1", now, now.AddHours(1)));
        await Store.SaveRevocationAsync(new StoredRevocation("user", "ada", now, now.AddMinutes(5)));
        await Store.SaveRevocationAsync(new StoredRevocation("user", "ada", now.AddMinutes(1), now.AddHours(2)));
        await Store.SaveRevocationAsync(new StoredRevocation("user", "bob", now.AddDays(-2), now.AddDays(-1)));
        await ReopenAsync();

        Assert.Equal(
            [new StoredRevocation("token", "jti-1", now, now.AddHours(1)), new StoredRevocation("user", "ada", now.AddMinutes(1), now.AddHours(2))],
            await Store.LoadRevocationsAsync(now));
        Assert.Equal([new StoredRevocation("user", "ada", now.AddMinutes(1), now.AddHours(2))], await Store.LoadRevocationsAsync(now.AddHours(1)));
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.AppendAsync("", [Op(1)]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.AppendAsync("doc", [Op(0)]));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.LoadAsync(""));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.ReadOpsAsync("doc", 0, 0));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.ReadOpsAsync("doc", -1, 10));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Store.SaveSnapshotAsync("doc", Snapshot(-1, "")));
        Assert.Equal(0, (await Store.LoadAsync("doc")).Rev);
    }

    /// <summary>Waits for every task and returns, per task, null when it succeeded or the exception it failed with.</summary>
    protected static async Task<Exception?[]> Outcomes(IEnumerable<Task> tasks)
    {
        var all = tasks.ToArray();
        try
        {
            await Task.WhenAll(all);
        }
        catch (Exception)
        {
            // Inspected per task below.
        }

        return all.Select(t => t.Exception?.InnerException).ToArray();
    }
}
