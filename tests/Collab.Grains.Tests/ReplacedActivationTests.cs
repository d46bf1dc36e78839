using Collab.Contracts;
using Collab.Ot;
using Collab.Storage;
using Xunit;

namespace Collab.Grains.Tests;

/// <summary>
/// One writer per document, on a real grain and the SQLite store: a rival writer claims the document in the store, as
/// the activation on another silo does after a split brain, and appends. The grain's activation was replaced: it can
/// never append again, and a client that saw the rival's revisions makes it reload instead of being refused.
/// </summary>
public sealed class ReplacedActivationTests
{
    private static SubmitRequest Append(string client, long seq, long rev, string text, int length) =>
        new(client, seq, rev, new TextOperationBuilder().Retain(length).Insert(text).Build());

    private static StoredOp Stored(long rev, string client, long seq, int length, string text) =>
        new(rev, client, seq, new TextOperationBuilder().Retain(length).Insert(text).Build().ToJson());

    /// <summary>"abc" stored by client "a" (seqs 1–3), then the grain activated: it claims the document (writer epoch 1).</summary>
    private static async Task<IDocumentGrain> StartedAsync(DocumentCluster cluster, string name)
    {
        await cluster.Store.AppendAsync(name, [Stored(1, "a", 1, 0, "a"), Stored(2, "a", 2, 1, "b"), Stored(3, "a", 3, 2, "c")]);
        var doc = cluster.Grains.GetGrain<IDocumentGrain>(name);
        Assert.Equal((3L, "abc"), await State(doc));
        return doc;
    }

    [Fact]
    public async Task A_replaced_activation_is_fenced_at_its_next_append_and_the_next_one_carries_on_without_loss()
    {
        await using var cluster = await DocumentCluster.StartAsync();
        var doc = await StartedAsync(cluster, "replaced");
        var rival = await cluster.Store.ClaimWriterAsync("replaced");
        Assert.Equal(2, rival);

        // The activation's op fits by revision (nobody appended since), yet the epoch fence refuses it: nothing is stored.
        var first = await doc.Submit(Append("a", 4, 3, "d", 3));
        Assert.Equal(SubmitStatus.Unavailable, first.Status);
        Assert.Equal(3, (await cluster.Store.LoadAsync("replaced")).Rev);
        // The rival is the writer now.
        await cluster.Store.AppendAsync("replaced", [Stored(4, "rival", 1, 3, "R")], rival);

        // The same seq resent lands once, on a fresh activation that loaded the rival's op and claimed the document.
        var resent = await Eventually(() => doc.Submit(Append("a", 4, 3, "d", 3)), r => r.Status != SubmitStatus.Unavailable);
        Assert.Equal(new SubmitResult(SubmitStatus.Committed, 5), resent);
        Assert.Equal((5L, "abcdR"), await State(doc));
        await Assert.ThrowsAsync<WriterFencedException>(() => cluster.Store.AppendAsync("replaced", [Stored(6, "rival", 2, 5, "S")], rival));
        var log = (await cluster.Store.LoadAsync("replaced")).Tail;
        Assert.Equal([("a", 1L), ("a", 2L), ("a", 3L), ("rival", 1L), ("a", 4L)], log.Select(o => (o.ClientId, o.Seq)));
    }

    [Fact]
    public async Task A_client_ahead_of_a_stale_activation_makes_it_reload_instead_of_being_refused()
    {
        await using var cluster = await DocumentCluster.StartAsync();
        var doc = await StartedAsync(cluster, "ahead");
        var rival = await cluster.Store.ClaimWriterAsync("ahead");
        await cluster.Store.AppendAsync("ahead", [Stored(4, "rival", 1, 3, "R"), Stored(5, "rival", 2, 4, "S")], rival);

        // The client saw rev 5 (from the rival): not bad_request, which would leave it stuck, but a retryable answer.
        var first = await doc.Submit(Append("b", 1, 5, "!", 5));
        Assert.Equal(SubmitStatus.Unavailable, first.Status);
        var resent = await Eventually(() => doc.Submit(Append("b", 1, 5, "!", 5)), r => r.Status != SubmitStatus.Unavailable);
        Assert.Equal(new SubmitResult(SubmitStatus.Committed, 6), resent);
        Assert.Equal((6L, "abcRS!"), await State(doc));

        // A client ahead of the store too is simply wrong, and told so; the activation stays.
        var status = await doc.GetStatus();
        var lying = await doc.Submit(Append("b", 2, 99, "?", 6));
        Assert.Equal(SubmitStatus.BadRequest, lying.Status);
        Assert.Equal(status.ActivatedAt, (await doc.GetStatus()).ActivatedAt);
        Assert.Equal(new SubmitResult(SubmitStatus.Committed, 7), await doc.Submit(Append("b", 3, 6, "?", 6)));
    }

    [Fact]
    public async Task A_joiner_ahead_of_a_stale_activation_is_told_to_retry_and_then_catches_up_from_the_store()
    {
        await using var cluster = await DocumentCluster.StartAsync();
        var doc = await StartedAsync(cluster, "join-ahead");
        var rival = await cluster.Store.ClaimWriterAsync("join-ahead");
        await cluster.Store.AppendAsync("join-ahead", [Stored(4, "rival", 1, 3, "R")], rival);

        await Assert.ThrowsAsync<DocumentUnavailableException>(() => doc.Join(4));
        var joined = await Eventually(() => doc.Join(4), _ => true);
        Assert.Equal(4, joined.Rev);
        Assert.Equal(4, joined.Since);
        Assert.Empty(joined.Ops!);
        Assert.Equal((4L, "abcR"), await State(doc));
    }

    [Fact]
    public async Task Activating_a_fresh_name_claims_nothing_and_writes_nothing()
    {
        await using var cluster = await DocumentCluster.StartAsync();
        var doc = cluster.Grains.GetGrain<IDocumentGrain>("fresh");
        await doc.Join(null);
        Assert.False(await cluster.Store.ExistsAsync("fresh"));
        // Written once it exists: its first activation wrote at epoch 0, the next one claims epoch 1.
        Assert.Equal(SubmitStatus.Committed, (await doc.Submit(Append("a", 1, 0, "x", 0))).Status);
        Assert.Equal(1, await cluster.Store.ClaimWriterAsync("fresh"));
        Assert.Equal(SubmitStatus.Unavailable, (await doc.Submit(Append("a", 2, 1, "y", 1))).Status);
        Assert.Equal(new SubmitResult(SubmitStatus.Committed, 2), await Eventually(() => doc.Submit(Append("a", 2, 1, "y", 1)), r => r.Status != SubmitStatus.Unavailable));
    }

    private static async Task<(long, string)> State(IDocumentGrain doc)
    {
        var state = await Eventually(doc.GetState, _ => true);
        return (state.Rev, state.Text);
    }

    /// <summary>Calls until <paramref name="done"/> holds (an activation on its way out may answer Unavailable or throw that it is moving).</summary>
    private static async Task<T> Eventually<T>(Func<Task<T>> call, Func<T, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                var result = await call();
                if (done(result)) return result;
            }
            catch (DocumentUnavailableException)
            {
                // Moving to a new activation: try again.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("not done within 15 s");
            await Task.Delay(50);
        }
    }
}
