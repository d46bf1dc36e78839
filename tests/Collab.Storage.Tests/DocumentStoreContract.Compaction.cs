using Xunit;

namespace Collab.Storage.Tests;

/// <summary>The contract's checkpoints, compaction and measurements: what every store must do to keep its disk bounded.</summary>
public abstract partial class DocumentStoreContract
{
    /// <summary>Everything is older than this: a retention window that keeps nothing by time.</summary>
    private static readonly DateTimeOffset Future = DateTimeOffset.UtcNow.AddYears(1);

    private static CompactionPolicy KeepNothingOld(long maxOpBytes = long.MaxValue, long keepCheckpointEvery = 1) =>
        new(Future, maxOpBytes, keepCheckpointEvery);

    /// <summary>Ops 1..count, one append each, with a checkpoint (and snapshot) every <paramref name="checkpointEvery"/> revisions (the store treats op and text as opaque).</summary>
    private async Task AppendWithCheckpointsAsync(string doc, int count, int checkpointEvery)
    {
        for (var rev = 1; rev <= count; rev++)
        {
            await Store.AppendAsync(doc, [Op(rev)]);
            if (rev % checkpointEvery == 0) await Store.SaveSnapshotAsync(doc, Snapshot(rev, $"text at {rev}", ("c1", rev, rev)), checkpoint: true);
        }
    }

    [Fact]
    public async Task A_checkpoint_is_a_snapshot_kept_in_the_history_and_loads_as_the_checkpoint_revision()
    {
        await Store.AppendAsync("doc", Ops(1, 5));
        await Store.SaveSnapshotAsync("doc", Snapshot(3, "three"), checkpoint: true);
        await Store.SaveSnapshotAsync("doc", Snapshot(5, "five"));
        await ReopenAsync();

        var loaded = await Store.LoadAsync("doc");
        Assert.Equal((5L, "five", 3L), (loaded.Snapshot.Rev, loaded.Snapshot.Text, loaded.CheckpointRev));
        var size = await Store.MeasureAsync("doc");
        Assert.Equal((5L, 1L, 1L, 5L), (size.Ops, size.FirstOpRev, size.Checkpoints, size.SnapshotRev));
        Assert.Equal("three".Length, size.CheckpointBytes);
        Assert.Equal("five".Length, size.SnapshotBytes);
        Assert.Equal(Ops(1, 5).Sum(o => (long)o.Op.Length), size.OpBytes);
        Assert.Equal(DocumentStorageSize.None, await Store.MeasureAsync("never-written"));
        Assert.Equal(0, (await Store.LoadAsync("never-written")).CheckpointRev);
    }

    [Fact]
    public async Task Compaction_folds_the_ops_up_to_the_newest_old_enough_checkpoint_and_loading_is_unchanged()
    {
        await AppendWithCheckpointsAsync("doc", 25, checkpointEvery: 10);
        await Store.SaveSnapshotAsync("doc", Snapshot(25, "text at 25", ("c1", 25, 25)));
        var before = await Store.LoadAsync("doc");

        var result = await Store.CompactAsync("doc", KeepNothingOld());

        Assert.Equal(new CompactionResult(20, 20, 0), result);
        var after = await Store.LoadAsync("doc");
        Assert.Equal((before.Rev, before.Snapshot.Text, before.Tail.Count), (after.Rev, after.Snapshot.Text, after.Tail.Count));
        Assert.Equal([21L, 22, 23, 24, 25], (await Store.ReadOpsAsync("doc", 0, 100)).Select(o => o.Rev));
        var size = await Store.MeasureAsync("doc");
        Assert.Equal((5L, 21L, 2L), (size.Ops, size.FirstOpRev, size.Checkpoints));

        // Compacting again finds nothing more to fold; the fence still counts from the stored head.
        Assert.Equal(0, (await Store.CompactAsync("doc", KeepNothingOld())).OpsDeleted);
        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", [Op(21)]));
        await Store.AppendAsync("doc", [Op(26)]);
        Assert.Equal(26, (await Store.LoadAsync("doc")).Rev);
    }

    [Fact]
    public async Task Ops_inside_the_retention_window_are_kept_and_a_document_without_checkpoints_keeps_every_op()
    {
        await AppendWithCheckpointsAsync("recent", 30, checkpointEvery: 10);
        await Store.AppendAsync("no-checkpoint", Ops(1, 30));
        await Store.SaveSnapshotAsync("no-checkpoint", Snapshot(30, "all"));

        var recent = new CompactionPolicy(DateTimeOffset.UtcNow.AddHours(-1), long.MaxValue, 1);
        Assert.Equal(0, (await Store.CompactAsync("recent", recent)).OpsDeleted);
        Assert.Equal(0, (await Store.CompactAsync("no-checkpoint", KeepNothingOld())).OpsDeleted);
        Assert.Equal(30, (await Store.MeasureAsync("recent")).Ops);
        Assert.Equal(30, (await Store.MeasureAsync("no-checkpoint")).Ops);
        Assert.Equal(CompactionResult.Nothing, await Store.CompactAsync("never-written", KeepNothingOld()));
    }

    [Fact]
    public async Task Beyond_the_op_byte_budget_recent_ops_are_folded_too_but_never_past_the_newest_checkpoint_before_the_budget()
    {
        // 40 ops of 1000 bytes; checkpoints at 10, 20, 30, 40; budget 15 000 bytes: the newest 15 ops fit, rev 25 does not.
        var big = new string('x', 996);
        for (var rev = 1; rev <= 40; rev++)
        {
            await Store.AppendAsync("heavy", [Op(rev, op: $"[\"{big}\"]")]);
            if (rev % 10 == 0) await Store.SaveSnapshotAsync("heavy", Snapshot(rev, $"at {rev}"), checkpoint: true);
        }
        var recent = new CompactionPolicy(DateTimeOffset.UtcNow.AddHours(-1), MaxOpBytes: 15_000, KeepCheckpointEvery: 1);

        var result = await Store.CompactAsync("heavy", recent);

        Assert.Equal((20L, 20L), (result.FoldedThroughRev, result.OpsDeleted));
        var size = await Store.MeasureAsync("heavy");
        Assert.Equal((20L, 21L, 20_000L), (size.Ops, size.FirstOpRev, size.OpBytes));
        Assert.Equal(40, (await Store.LoadAsync("heavy")).Rev);
    }

    [Fact]
    public async Task Checkpoints_before_the_compaction_point_are_thinned_to_one_per_KeepCheckpointEvery_revisions()
    {
        await AppendWithCheckpointsAsync("doc", 100, checkpointEvery: 10);

        var result = await Store.CompactAsync("doc", KeepNothingOld(keepCheckpointEvery: 50));

        // The point is rev 100; before it the newest of revs 0–49 (40) and of 50–99 (90) stay.
        Assert.Equal(new CompactionResult(100, 100, 7), result);
        var size = await Store.MeasureAsync("doc");
        Assert.Equal((0L, 0L, 3L), (size.Ops, size.FirstOpRev, size.Checkpoints));
        Assert.True(await Store.ExistsAsync("doc"), "a document whose ops were all folded still exists");
        var loaded = await Store.LoadAsync("doc");
        Assert.Equal((100L, "text at 100", 100L), (loaded.Rev, loaded.Snapshot.Text, loaded.CheckpointRev));
        Assert.Empty(loaded.Tail);
        await Store.AppendAsync("doc", [Op(101)]);
    }

    [Fact]
    public async Task A_long_log_is_folded_in_bounded_steps_and_completely()
    {
        await Store.AppendAsync("long", Ops(1, 25_000));
        await Store.SaveSnapshotAsync("long", Snapshot(24_000, "late"), checkpoint: true);

        var result = await Store.CompactAsync("long", KeepNothingOld());

        Assert.Equal((24_000L, 24_000L), (result.FoldedThroughRev, result.OpsDeleted));
        Assert.Equal(24_001, (await Store.MeasureAsync("long")).FirstOpRev);
        Assert.Equal(25_000, (await Store.LoadAsync("long")).Rev);
    }

    [Fact]
    public async Task Compaction_candidates_are_the_documents_with_old_ops_under_a_checkpoint_listed_in_pages()
    {
        foreach (var doc in new[] { "c", "a", "e", "b", "d", "no-checkpoint", "folded" }) await Store.AppendAsync(doc, Ops(1, 2));
        foreach (var doc in new[] { "c", "a", "e", "b", "d", "folded" }) await Store.SaveSnapshotAsync(doc, Snapshot(2, "xy"), checkpoint: true);
        await Store.CompactAsync("folded", KeepNothingOld());

        Assert.Empty(await Store.ListCompactableAsync(DateTimeOffset.UtcNow.AddHours(-1), null, 10));
        Assert.Equal(["a", "b"], await Store.ListCompactableAsync(Future, null, 2));
        Assert.Equal(["c", "d"], await Store.ListCompactableAsync(Future, "b", 2));
        Assert.Equal(["e"], await Store.ListCompactableAsync(Future, "d", 2));
    }

    [Fact]
    public async Task Exists_sees_ops_snapshots_and_access_records()
    {
        await Store.AppendAsync("with-op", [Op(1)]);
        await Store.SaveSnapshotAsync("imported", Snapshot(3, "imported"));
        await Store.SaveAccessAsync("with-access", new StoredAccess(1, 1, 1, DateTimeOffset.UtcNow));

        Assert.True(await Store.ExistsAsync("with-op"));
        Assert.True(await Store.ExistsAsync("imported"));
        Assert.True(await Store.ExistsAsync("with-access"));
        Assert.False(await Store.ExistsAsync("nothing"));
    }

    [Fact]
    public async Task The_store_measures_its_own_size()
    {
        var empty = await Store.MeasureStoreAsync();
        await Store.AppendAsync("doc", [Op(1, op: $"[\"{new string('y', 200_000)}\"]")]);

        var full = await Store.MeasureStoreAsync();

        Assert.True(full.Bytes >= empty.Bytes, $"{full.Bytes} < {empty.Bytes}");
        Assert.True(full.Bytes > 0);
        Assert.InRange(full.FreeBytes, 0, full.Bytes);
    }
}
