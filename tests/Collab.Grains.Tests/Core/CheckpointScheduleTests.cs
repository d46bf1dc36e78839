using Collab.Contracts;
using Collab.Grains.Core;
using Collab.Ot;
using Collab.Storage;
using Xunit;

namespace Collab.Grains.Tests.Core;

/// <summary>When <see cref="DocumentCore"/> asks for a history checkpoint: never for much more text than the ops it lets compaction fold.</summary>
public sealed class CheckpointScheduleTests
{
    private static readonly DocumentGrainOptions Options = new()
    {
        WindowSize = 16, SnapshotEvery = 10, CheckpointBytes = 64 * 1024, OpsPerSecond = 1e9, OpsBurst = 1_000_000,
    };

    private static void Commit(DocumentCore core, TextOperation op, string client = "a")
    {
        var decision = core.Submit(new SubmitRequest(client, core.Rev + 1, core.Rev, op), TimeSpan.Zero);
        Assert.Null(decision.Result);
        core.TakeWrite();
        core.WriteSucceeded();
    }

    private static TextOperation Insert(int at, int length, int count, char c = 'x') =>
        new TextOperationBuilder().Retain(at).Insert(new string(c, count)).Retain(length - at).Build();

    [Fact]
    public void SnapshotEvery_small_ops_on_a_small_text_make_a_checkpoint()
    {
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, []), Options);
        for (var i = 0; i < 10; i++) Commit(core, Insert(i, i, 1));

        var snapshot = core.TakeSnapshot(out var checkpoint);

        Assert.NotNull(snapshot);
        Assert.True(checkpoint);
        core.SnapshotSucceeded();
        Assert.Equal((10L, 10L), (core.SnapshotRev, core.CheckpointRev));
    }

    [Fact]
    public void Small_ops_on_a_large_text_make_snapshots_but_a_checkpoint_only_once_they_weigh_the_text()
    {
        var text = new string('t', 5_000);
        var core = new DocumentCore(new StoredDocument(new DocumentSnapshot(1, text, new Dictionary<string, ClientMark>()), []), Options);
        var length = text.Length;
        var checkpoints = new List<long>();
        for (var round = 0; round < 60; round++)
        {
            for (var i = 0; i < 10; i++) Commit(core, Insert(0, length++, 1));
            var snapshot = core.TakeSnapshot(out var checkpoint);
            Assert.NotNull(snapshot); // the load stays cheap: a snapshot every SnapshotEvery ops
            if (checkpoint) checkpoints.Add(snapshot.Rev);
            core.SnapshotSucceeded();
        }

        // Each op weighs about 20 bytes on the wire: some 250 ops weigh the 5 000-character text.
        Assert.NotEmpty(checkpoints);
        var gaps = checkpoints.Zip(checkpoints.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.InRange(gap, 200, 300));
        Assert.InRange(checkpoints[0] - 1, 200, 300);
    }

    [Fact]
    public void A_few_huge_ops_make_a_checkpoint_after_CheckpointBytes_however_few_they_are()
    {
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, []), Options);
        Commit(core, Insert(0, 0, 40_000));
        Assert.Null(core.TakeSnapshot(out _));
        Commit(core, new TextOperationBuilder().Delete(20_000).Insert(new string('y', 40_000)).Retain(20_000).Build());

        var snapshot = core.TakeSnapshot(out var checkpoint);

        Assert.True(checkpoint, "80 000 bytes of ops exceed CheckpointBytes (65 536)");
        Assert.Equal((2L, 60_000), (snapshot!.Rev, snapshot.Text.Length));
    }

    [Fact]
    public void A_forced_snapshot_is_a_checkpoint_only_when_one_is_due_and_ops_committed_meanwhile_still_count()
    {
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, []), Options);
        Commit(core, Insert(0, 0, 1));
        Assert.NotNull(core.TakeSnapshot(out var early, force: true));
        Assert.False(early);
        core.SnapshotSucceeded();
        Assert.Equal((1L, 0L), (core.SnapshotRev, core.CheckpointRev));

        Commit(core, Insert(0, 1, 70_000));
        var snapshot = core.TakeSnapshot(out var due);
        Assert.True(due);
        Commit(core, Insert(0, 70_001, 70_000)); // committed while the checkpoint is written
        core.SnapshotSucceeded();
        Assert.Equal(2, core.CheckpointRev);
        Assert.NotNull(core.TakeSnapshot(out var next));
        Assert.True(next, "the 70 000 characters committed during the last checkpoint count towards the next");
    }

    [Fact]
    public void A_reloaded_document_counts_the_ops_after_its_checkpoint()
    {
        var tail = Enumerable.Range(1, 4).Select(i => new StoredOp(i, "a", i, new TextOperationBuilder().Retain((i - 1) * 20_000).Insert(new string('y', 20_000)).Build().ToJson())).ToList();
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, tail) { CheckpointRev = 0 }, Options);
        Assert.True(core.TakeSnapshot(out var checkpoint) is not null && checkpoint, "80 000 bytes since the (absent) checkpoint");

        var checkpointed = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, tail) { CheckpointRev = 3 }, Options);
        Assert.Null(checkpointed.TakeSnapshot(out _));
        Assert.Equal(3, checkpointed.CheckpointRev);
    }
}
