using Collab.Contracts;
using Collab.Grains.Compaction;
using Collab.Ot;
using Collab.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Grains.Tests;

/// <summary>
/// Op-log compaction through the document grain: the log stays within its byte budget under churn, every acknowledged
/// op's effect survives compaction and a restart, and the periodic sweep folds what the retention window lets go.
/// </summary>
public sealed class CompactionTests(ITestOutputHelper output)
{
    private const long Budget = 256 * 1024;

    private static void Small(DocumentGrainOptions o)
    {
        o.SnapshotEvery = 50;
        o.CheckpointBytes = 64 * 1024;
    }

    [Fact]
    public async Task Insert_and_delete_churn_keeps_the_op_log_within_its_byte_budget_and_the_document_intact()
    {
        var dataPath = DocumentCluster.NewDataPath();
        const int Chunk = 50_000;
        await using (var cluster = await DocumentCluster.StartAsync(dataPath, Small, compaction: o => o.MaxOpBytesPerDocument = Budget))
        {
            var doc = cluster.Grains.GetGrain<IDocumentGrain>("churn");
            long rev = 0;
            for (var round = 0; round < 60; round++)
            {
                // 60 × 50 000 characters inserted and deleted: 3 MB of ops for a text that ends as "kept".
                Assert.True((await doc.Submit(new SubmitRequest("attacker", ++rev, rev - 1, new TextOperationBuilder().Insert(new string('a', Chunk)).Build()))).IsSuccess);
                Assert.True((await doc.Submit(new SubmitRequest("attacker", ++rev, rev - 1, new TextOperationBuilder().Delete(Chunk).Build()))).IsSuccess);
            }
            Assert.True((await doc.Submit(new SubmitRequest("honest", 1, rev, new TextOperationBuilder().Insert("kept").Build()))).IsSuccess);

            // Compaction runs beside the writes, after each checkpoint: wait for the last one to land.
            var size = await WaitForAsync(() => cluster.Store.MeasureAsync("churn"), s => s.OpBytes <= Budget + (64 * 1024) + Chunk + 64);
            output.WriteLine($"after 3 MB of churn the log holds {size.Ops} ops, {size.OpBytes} bytes (first rev {size.FirstOpRev}), {size.Checkpoints} checkpoints of {size.CheckpointBytes} bytes");
            Assert.True(size.FirstOpRev > 1, "old ops were folded");
            // Checkpoints: one before the compaction point (revs 0–9 999), and one per CheckpointBytes of the ops kept, each at
            // most the longest text (Chunk characters).
            var checkpointBound = (1 + (size.OpBytes / (64 * 1024)) + 1) * Chunk;
            Assert.True(size.CheckpointBytes <= checkpointBound, $"{size.CheckpointBytes} bytes of checkpoints, bound {checkpointBound}");

            // A join from before the compaction point gets the text; a recent one still gets ops.
            var old = await doc.Join(1);
            Assert.Equal(("kept", 121L), (old.Text, old.Rev));
            var recent = await doc.Join(120);
            Assert.Equal([121L], recent.Ops!.Select(o => o.Rev));
        }

        await using var restarted = await DocumentCluster.StartAsync(dataPath, Small, compaction: o => o.MaxOpBytesPerDocument = Budget);
        var state = await restarted.Grains.GetGrain<IDocumentGrain>("churn").GetState();
        Assert.Equal((121L, "kept"), (state.Rev, state.Text));
        Assert.Equal(new SubmitResult(SubmitStatus.Duplicate, 121),
            await restarted.Grains.GetGrain<IDocumentGrain>("churn").Submit(new SubmitRequest("honest", 1, 120, new TextOperationBuilder().Retain(0).Insert("kept").Build())));
    }

    [Fact]
    public async Task Random_edits_keep_their_effect_through_compaction_and_a_restart()
    {
        var dataPath = DocumentCluster.NewDataPath();
        var random = new Random(20261203);
        var text = "";
        await using (var cluster = await DocumentCluster.StartAsync(dataPath, Small, compaction: o => o.MaxOpBytesPerDocument = 64 * 1024))
        {
            var doc = cluster.Grains.GetGrain<IDocumentGrain>("random");
            for (var rev = 0; rev < 600; rev++)
            {
                var op = RandomEdit(random, text);
                var result = await doc.Submit(new SubmitRequest($"c{rev % 3}", rev / 3 + 1, rev, op));
                Assert.Equal(SubmitStatus.Committed, result.Status);
                text = op.Apply(text);
            }
            await WaitForAsync(() => cluster.Store.MeasureAsync("random"), s => s.FirstOpRev > 1);
            Assert.Equal(text, (await doc.GetState()).Text);
        }

        await using var restarted = await DocumentCluster.StartAsync(dataPath, Small);
        var state = await restarted.Grains.GetGrain<IDocumentGrain>("random").GetState();
        Assert.Equal((600L, text), (state.Rev, state.Text));
    }

    [Fact]
    public async Task The_sweep_folds_every_document_whose_ops_left_the_retention_window()
    {
        await using var cluster = await DocumentCluster.StartAsync(configure: Small, compaction: o => o.Enabled = false);
        for (var d = 0; d < 3; d++)
        {
            var doc = cluster.Grains.GetGrain<IDocumentGrain>($"swept-{d}");
            var text = "";
            for (var rev = 0; rev < 120; rev++)
            {
                var op = new TextOperationBuilder().Retain(text.Length).Insert("x").Build();
                Assert.True((await doc.Submit(new SubmitRequest("c", rev + 1, rev, op))).IsSuccess);
                text += "x";
            }
            await cluster.Grains.GetGrain<IDocumentGrain>($"swept-{d}").GetState();
        }
        // Checkpoints at 50 and 100 (each 50 ops weigh more than the text); the grains did not compact (disabled).
        await WaitForAsync(() => cluster.Store.LoadAsync("swept-2"), d => d.CheckpointRev == 100);
        Assert.Equal(120, (await cluster.Store.MeasureAsync("swept-0")).Ops);

        var keepAll = new OpLogCompactor(cluster.Store, Options.Create(new CompactionOptions { Retention = TimeSpan.FromHours(1) }),
            TimeProvider.System, NullLogger<OpLogCompactor>.Instance);
        Assert.Equal(0, (await keepAll.SweepAsync(CancellationToken.None)).OpsDeleted);

        var keepNone = new OpLogCompactor(cluster.Store, Options.Create(new CompactionOptions { Retention = TimeSpan.Zero }),
            TimeProvider.System, NullLogger<OpLogCompactor>.Instance);
        var swept = await keepNone.SweepAsync(CancellationToken.None);

        Assert.Equal(300, swept.OpsDeleted);
        for (var d = 0; d < 3; d++)
        {
            var size = await cluster.Store.MeasureAsync($"swept-{d}");
            Assert.Equal((20L, 101L), (size.Ops, size.FirstOpRev));
            Assert.Equal(new string('x', 120), (await cluster.Grains.GetGrain<IDocumentGrain>($"swept-{d}").GetState()).Text);
        }
    }

    private static TextOperation RandomEdit(Random random, string text)
    {
        var at = random.Next(text.Length + 1);
        var builder = new TextOperationBuilder().Retain(at);
        var delete = random.Next(3) == 0 ? random.Next(Math.Min(40, text.Length - at) + 1) : 0;
        if (delete > 0) builder.Delete(delete);
        builder.Insert(new string((char)('a' + random.Next(26)), random.Next(1, 300)));
        return builder.Retain(text.Length - at - delete).Build();
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            Assert.True(DateTime.UtcNow < deadline, $"still {value} after 15 s");
            await Task.Delay(50);
        }
    }
}
