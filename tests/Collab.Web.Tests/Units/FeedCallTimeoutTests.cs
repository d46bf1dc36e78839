using Collab.Contracts;
using Collab.Ot;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Xunit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Collab.Web.Tests.Units;

/// <summary>
/// A feed whose grain call hangs (its silo froze: the call would wait out the 10 s grain call timeout) gives up on it
/// after the host's call timeout, subscribes again and catches up: the sessions get the ops they missed in about a
/// second, not after the periodic renewal or the next notification.
/// </summary>
public sealed class FeedCallTimeoutTests
{
    private static CommittedOp Op(long rev) => new(rev, "writer", rev, new TextOperationBuilder().Retain((int)rev - 1).Insert("x").Build());

    [Fact]
    public async Task A_hung_catch_up_is_abandoned_and_retried_after_subscribing_again()
    {
        var grain = new HangingOnceGrain { Committed = 2 };
        var feed = new DocumentFeed(new TestFeedHost { CallTimeout = TimeSpan.FromMilliseconds(200) }, "doc", grain, NullLogger.Instance);
        feed.Start(Task.CompletedTask);
        await feed.Ready.WaitAsync(TimeSpan.FromSeconds(5));
        var session = new Sessions.Session(new FrontEndOptions(), NullLogger.Instance);
        var member = new SessionDocument(session, "doc", feed);
        await feed.AttachAsync(member, new JoinResult(2, "xx", null, null, [])).WaitAsync(TimeSpan.FromSeconds(5));

        // Revs 3–4 were committed but their notification was lost; rev 5 arrives: the gap's fetch hangs once.
        grain.Committed = 5;
        var started = DateTime.UtcNow;
        feed.Post([Op(5)]);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (member.Rev < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the session is at rev {member.Rev}; the feed never retried the hung fetch");
            await Task.Delay(10);
        }
        Assert.True(grain.Hung, "the first fetch did not hang: the test did not exercise the timeout");
        Assert.True(grain.Subscriptions >= 2, "the feed did not subscribe again after the failed call");
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
        feed.Complete();
        await feed.Completion!.WaitAsync(TimeSpan.FromSeconds(5));
    }

    /// <summary>A document whose first <c>GetOps</c> never answers (as a call to a frozen silo); later ones do.</summary>
    private sealed class HangingOnceGrain : FakeDocumentGrain
    {
        public long Committed { get; set; }
        public bool Hung { get; private set; }
        public int Subscriptions { get; private set; }

        public override Task<long> Subscribe(string hostId, IDocumentObserver observer)
        {
            Subscriptions++;
            return Task.FromResult(Committed);
        }

        public override Task<CommittedOp[]> GetOps(long afterRev, int maxCount)
        {
            if (!Hung)
            {
                Hung = true;
                return new TaskCompletionSource<CommittedOp[]>().Task;
            }
            return Task.FromResult(Enumerable.Range(1, (int)Math.Min(maxCount, Committed - afterRev)).Select(i => Op(afterRev + i)).ToArray());
        }

        public override Task<DocumentAccess?> GetAccess() => Task.FromResult<DocumentAccess?>(null);
    }
}
