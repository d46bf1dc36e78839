using Collab.Contracts;
using Collab.Ot;
using Xunit;

namespace Collab.Grains.Tests;

public sealed class ReactivationTests
{
    private static SubmitRequest Append(string client, long seq, long rev, string text, int length) =>
        new(client, seq, rev, new TextOperationBuilder().Retain(length).Insert(text).Build());

    [Fact]
    public async Task A_document_comes_back_from_storage_with_its_text_revision_and_dedupe_table()
    {
        var dataPath = DocumentCluster.NewDataPath();
        var expected = "";
        await using (var first = await DocumentCluster.StartAsync(dataPath, o => o.SnapshotEvery = 7))
        {
            var doc = first.Grains.GetGrain<IDocumentGrain>("reactivate");
            for (var i = 0; i < 20; i++)
            {
                var piece = $"<{i}>";
                await doc.Submit(Append(i % 2 == 0 ? "even" : "odd", i + 1, i, piece, expected.Length));
                expected += piece;
            }
        }

        await using var second = await DocumentCluster.StartAsync(dataPath, o => o.SnapshotEvery = 7);
        var again = second.Grains.GetGrain<IDocumentGrain>("reactivate");
        var state = await again.GetState();
        Assert.Equal((20L, expected), (state.Rev, state.Text));
        // The last op of "odd" (seq 20, rev 20) resent after the restart is recognised.
        Assert.Equal(new SubmitResult(SubmitStatus.Duplicate, 20), await again.Submit(Append("odd", 20, 19, "<19>", expected.Length - 4)));
        var join = await again.Join(15);
        Assert.Equal([16L, 17L, 18L, 19L, 20L], join.Ops!.Select(o => o.Rev));
        var snapshot = (await second.Store.LoadAsync("reactivate")).Snapshot;
        Assert.True(snapshot.Rev >= 14, $"expected a snapshot every 7 ops, newest is at {snapshot.Rev}");
    }

    [Fact]
    public async Task An_op_based_before_the_window_is_refused_as_stale_and_old_catch_up_reads_the_log()
    {
        await using var cluster = await DocumentCluster.StartAsync(configure: o => o.WindowSize = 4);
        var doc = cluster.Grains.GetGrain<IDocumentGrain>("window");
        var length = 0;
        for (var i = 0; i < 30; i++)
        {
            await doc.Submit(Append("a", i + 1, i, "x", length));
            length++;
        }
        var stale = await doc.Submit(Append("b", 1, 0, "y", 0));
        Assert.Equal(SubmitStatus.StaleRev, stale.Status);
        var join = await doc.Join(2);                        // older than the window: read from the log
        Assert.Equal(Enumerable.Range(3, 28).Select(i => (long)i), join.Ops!.Select(o => o.Rev));
        var replay = new string('x', 2);
        foreach (var op in join.Ops!) replay = op.Op.Apply(replay);
        Assert.Equal((await doc.GetState()).Text, replay);
    }
}
