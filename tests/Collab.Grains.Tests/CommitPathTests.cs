using Collab.Contracts;
using Collab.Ot;
using Xunit;

namespace Collab.Grains.Tests;

/// <summary>Regression tests for faults of the commit path found in review, on a real grain and the SQLite store.</summary>
public sealed class CommitPathTests
{
    private static SubmitRequest Append(string client, long seq, long rev, string text, int length) =>
        new(client, seq, rev, new TextOperationBuilder().Retain(length).Insert(text).Build());

    [Fact]
    public async Task Commits_go_on_while_a_snapshot_write_is_stuck()
    {
        await using var cluster = await DocumentCluster.StartAsync(configure: o => o.SnapshotEvery = 5);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var snapshotStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        cluster.Store.BeforeSnapshot["stuck-snapshot"] = () =>
        {
            snapshotStarted.TrySetResult();
            return held.Task;
        };
        var doc = cluster.Grains.GetGrain<IDocumentGrain>("stuck-snapshot");
        for (var i = 0; i < 5; i++) Assert.Equal(SubmitStatus.Committed, (await doc.Submit(Append("a", i + 1, i, "x", i))).Status);
        await snapshotStarted.Task.WaitAsync(TimeSpan.FromSeconds(10));

        // The snapshot at rev 5 is held; before the fix every later submit waited behind it.
        for (var i = 5; i < 20; i++)
        {
            var result = await doc.Submit(Append("a", i + 1, i, "x", i)).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(new SubmitResult(SubmitStatus.Committed, i + 1), result);
        }
        Assert.Equal((20L, new string('x', 20)), await State(doc));
        Assert.Equal(0, (await doc.GetStatus()).SnapshotRev);

        held.SetResult();
        await Eventually(async () => (await doc.GetStatus()).SnapshotRev >= 5);
    }

    [Fact]
    public async Task A_document_whose_write_failed_answers_reads_with_a_typed_unavailable_error()
    {
        await using var cluster = await DocumentCluster.StartAsync();
        cluster.Store.BeforeAppend["failing"] = () => throw new IOException("disk gone");
        var doc = cluster.Grains.GetGrain<IDocumentGrain>("failing");
        var submits = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => doc.Submit(Append($"c{i}", 1, 0, "x", 0))));
        Assert.All(submits, r => Assert.Equal(SubmitStatus.Unavailable, r.Status));
        // Until the activation is gone, reads say "unavailable" with a type the front end can match, not a bare InvalidOperationException.
        var error = await Record.ExceptionAsync(() => doc.GetState());
        if (error is not null) Assert.IsType<DocumentUnavailableException>(error);
        cluster.Store.BeforeAppend.TryRemove("failing", out _);
        await Eventually(async () => (await doc.Submit(Append("c0", 1, 0, "x", 0))).Status == SubmitStatus.Committed);
        Assert.Equal((1L, "x"), await State(doc));
    }

    private static async Task<(long, string)> State(IDocumentGrain doc)
    {
        var state = await doc.GetState();
        return (state.Rev, state.Text);
    }

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                if (await condition()) return;
            }
            catch (DocumentUnavailableException)
            {
                // Moving to a new activation: try again.
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met within 15 s");
            await Task.Delay(50);
        }
    }
}
