using Xunit;

namespace Collab.Storage.Tests;

/// <summary>The contract's writer epochs: one writer per document, so a replaced writer can never append again.</summary>
public abstract partial class DocumentStoreContract
{
    [Fact]
    public async Task Claiming_a_document_the_store_holds_nothing_of_answers_0_and_writes_nothing()
    {
        Assert.Equal(0, await Store.ClaimWriterAsync("fresh"));
        Assert.Equal(0, await Store.ClaimWriterAsync("fresh"));
        Assert.False(await Store.ExistsAsync("fresh"));
        Assert.Equal(0, (await Store.MeasureAsync("fresh")).Ops);

        // Unclaimed, a document is written at epoch 0 (fenced by revision alone).
        await Store.AppendAsync("fresh", Ops(1, 2), writerEpoch: 0);
        Assert.Equal(2, (await Store.LoadAsync("fresh")).Rev);
    }

    [Fact]
    public async Task Each_claim_raises_the_epoch_and_kept_across_a_reopen()
    {
        await Store.AppendAsync("doc", Ops(1, 1));
        Assert.Equal(1, await Store.ClaimWriterAsync("doc"));
        Assert.Equal(2, await Store.ClaimWriterAsync("doc"));
        await ReopenAsync();
        Assert.Equal(3, await Store.ClaimWriterAsync("doc"));

        // A snapshot or an access record alone makes a document claimable too.
        await Store.SaveSnapshotAsync("snap-only", Snapshot(4, "four"));
        Assert.Equal(1, await Store.ClaimWriterAsync("snap-only"));
        await Store.SaveAccessAsync("access-only", new StoredAccess(1, 1, 1, DateTimeOffset.UtcNow));
        Assert.Equal(1, await Store.ClaimWriterAsync("access-only"));
    }

    [Fact]
    public async Task A_replaced_writer_can_never_append_again_even_when_its_revision_fits()
    {
        await Store.AppendAsync("doc", Ops(1, 3));
        var first = await Store.ClaimWriterAsync("doc");
        await Store.AppendAsync("doc", Ops(4, 2), first);

        var second = await Store.ClaimWriterAsync("doc");
        var fenced = await Assert.ThrowsAsync<WriterFencedException>(() => Store.AppendAsync("doc", Ops(6, 1), first));
        Assert.Equal(("doc", first, second), (fenced.DocumentId, fenced.WriterEpoch, fenced.StoredEpoch));
        // Nor at epoch 0, nor at an epoch nobody claimed yet.
        await Assert.ThrowsAsync<WriterFencedException>(() => Store.AppendAsync("doc", Ops(6, 1), 0));
        await Assert.ThrowsAsync<WriterFencedException>(() => Store.AppendAsync("doc", Ops(6, 1), second + 1));
        Assert.Equal(5, (await Store.LoadAsync("doc")).Rev);

        // The new writer goes on where the log ends; the epoch is checked before the revision.
        await Store.AppendAsync("doc", Ops(6, 2), second);
        await Assert.ThrowsAsync<RevisionConflictException>(() => Store.AppendAsync("doc", Ops(6, 1), second));
        await Assert.ThrowsAsync<WriterFencedException>(() => Store.AppendAsync("doc", Ops(8, 1), first));
        var loaded = await Store.LoadAsync("doc");
        Assert.Equal(Enumerable.Range(1, 7).Select(r => (long)r), loaded.Tail.Select(o => o.Rev));
        await ReopenAsync();
        await Assert.ThrowsAsync<WriterFencedException>(() => Store.AppendAsync("doc", Ops(8, 1), first));
        await Store.AppendAsync("doc", Ops(8, 1), second);
    }

    [Fact]
    public async Task A_writer_that_claims_then_loads_sees_every_append_of_the_writer_it_replaced_and_that_one_no_more()
    {
        // The old writer appends as fast as it can while the new one claims at a random moment and loads: every op the
        // old one stored is in the new one's load, and no append of the old one succeeds after the claim.
        for (var round = 0; round < 8; round++)
        {
            var doc = $"handover-{round}";
            await Store.AppendAsync(doc, Ops(1, 1));
            var old = await Store.ClaimWriterAsync(doc);
            long oldHead = 1;
            var oldStored = new List<long>();
            using var stop = new CancellationTokenSource();
            var oldWriter = Task.Run(async () =>
            {
                while (true)
                {
                    try
                    {
                        await Store.AppendAsync(doc, [Op(oldHead + 1, "old")], old);
                    }
                    catch (WriterFencedException)
                    {
                        return;
                    }
                    lock (oldStored) oldStored.Add(++oldHead);
                }
            });
            await Task.Delay(Random.Shared.Next(5, 40));
            var claimed = await Store.ClaimWriterAsync(doc);
            var loaded = await Store.LoadAsync(doc);
            await oldWriter.WaitAsync(TimeSpan.FromSeconds(30));

            Assert.True(claimed > old);
            lock (oldStored)
            {
                Assert.NotEmpty(oldStored);
                Assert.Equal(oldStored[^1], loaded.Rev);
            }
            await Store.AppendAsync(doc, [Op(loaded.Rev + 1, "new")], claimed);
        }
    }

    [Fact]
    public async Task The_stored_revision_is_the_newest_op_or_snapshot()
    {
        Assert.Equal(0, await Store.GetRevisionAsync("doc"));
        await Store.AppendAsync("doc", Ops(1, 3));
        Assert.Equal(3, await Store.GetRevisionAsync("doc"));
        await Store.SaveSnapshotAsync("ahead", Snapshot(9, "nine"));
        Assert.Equal(9, await Store.GetRevisionAsync("ahead"));
    }
}
