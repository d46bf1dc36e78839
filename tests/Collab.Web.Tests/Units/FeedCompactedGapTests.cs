using Collab.Contracts;
using Collab.Ot;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>
/// A feed that missed ops the document no longer keeps as ops (compaction folded them): its sessions cannot be brought
/// up to date op by op, so they are closed to rejoin (and get the text), and a joiner is never attached with a hole.
/// </summary>
public sealed class FeedCompactedGapTests
{
    private static CommittedOp Op(long rev) => new(rev, "writer", rev, new TextOperationBuilder().Retain((int)rev - 1).Insert("x").Build());

    [Fact]
    public async Task Sessions_behind_a_folded_gap_are_closed_to_rejoin_and_the_feed_goes_on_from_the_new_ops()
    {
        var grain = new CompactedGrain(committed: 5, foldedThrough: 8);
        var feed = new DocumentFeed(new TestFeedHost(), "doc", grain, NullLogger.Instance);
        feed.Start(Task.CompletedTask);
        await feed.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        await feed.AttachAsync(new SessionDocument(session, "doc", feed), new JoinResult(5, "xxxxx", null, null, [])).WaitAsync(TimeSpan.FromSeconds(5));

        // Revs 6–8 were missed and folded; rev 9 arrives.
        grain.Committed = 9;
        feed.Post([Op(9)]);

        await WaitUntilAsync(() => session.CloseRequest is not null);
        Assert.Equal(CloseCodes.SendQueueOverflow, session.CloseRequest!.Value.Code);
        Assert.Contains("resume with join+rev", session.CloseRequest.Value.Reason, StringComparison.Ordinal);

        // A session joining now (at rev 9, with the text) is attached and gets rev 10 as usual.
        var joiner = new Session(new FrontEndOptions(), NullLogger.Instance);
        await feed.AttachAsync(new SessionDocument(joiner, "doc", feed), new JoinResult(9, "xxxxxxxxx", null, null, [])).WaitAsync(TimeSpan.FromSeconds(5));
        grain.Committed = 10;
        feed.Post([Op(10)]);
        feed.Complete();
        await feed.Completion!.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Null(joiner.CloseRequest);
    }

    [Fact]
    public async Task A_joiner_behind_the_feed_whose_missing_ops_were_folded_is_refused_not_attached_with_a_hole()
    {
        var grain = new CompactedGrain(committed: 20, foldedThrough: 15);
        var feed = new DocumentFeed(new TestFeedHost(), "doc", grain, NullLogger.Instance);
        feed.Start(Task.CompletedTask);
        await feed.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);

        await Assert.ThrowsAsync<DocumentUnavailableException>(() =>
            feed.AttachAsync(new SessionDocument(session, "doc", feed), new JoinResult(12, new string('x', 12), null, null, [])).WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not become true within 5 s");
            await Task.Delay(10);
        }
    }

    /// <summary>A document at <see cref="Committed"/> whose ops up to <c>foldedThrough</c> are gone, as GetOps answers then.</summary>
    private sealed class CompactedGrain(long committed, long foldedThrough) : FakeDocumentGrain
    {
        public long Committed { get; set; } = committed;
        public override Task<long> Subscribe(string hostId, IDocumentObserver observer) => Task.FromResult(Committed);
        public override Task<CommittedOp[]> GetOps(long afterRev, int maxCount) => Task.FromResult(afterRev < foldedThrough
            ? []
            : Enumerable.Range(1, (int)Math.Min(maxCount, Committed - afterRev)).Select(i => Op(afterRev + i)).ToArray());
        public override Task<DocumentAccess?> GetAccess() => Task.FromResult<DocumentAccess?>(null);
    }
}
