using Collab.Contracts;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>A feed whose subscribe fails, driven without sockets or a cluster: nothing may wait on it forever.</summary>
public sealed class FeedSubscribeFailureTests
{
    [Fact]
    public async Task A_failed_subscribe_answers_queued_and_later_attaches_and_detaches_and_unregisters_the_feed()
    {
        var grain = new FailingGrain();
        var host = new TestFeedHost();
        var feed = new DocumentFeed(host, "doc", grain, NullLogger.Instance);
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var queued = new SessionDocument(session, "doc", feed);
        // Queued before the loop starts, as a join racing the subscribe is.
        var queuedAttach = feed.AttachAsync(queued, new JoinResult(0, "", null, null, []));
        var queuedDetach = feed.DetachAsync(queued);

        feed.Start(Task.CompletedTask);
        await Assert.ThrowsAsync<DocumentUnavailableException>(() => feed.Ready.WaitAsync(TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => queuedAttach.WaitAsync(TimeSpan.FromSeconds(5)));
        await queuedDetach.WaitAsync(TimeSpan.FromSeconds(5));

        // What SessionProtocol.JoinAsync does after the failure: before the fix this detach never completed.
        var later = new SessionDocument(session, "doc", feed);
        await feed.DetachAsync(later).WaitAsync(TimeSpan.FromSeconds(5));
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => feed.AttachAsync(later, new JoinResult(0, "", null, null, [])).WaitAsync(TimeSpan.FromSeconds(5)));
        await feed.Completion!.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Same(feed, Assert.Single(host.Forgotten));
    }

    private sealed class FailingGrain : FakeDocumentGrain
    {
        public override Task<long> Subscribe(string hostId, IDocumentObserver observer) => throw new DocumentUnavailableException("store down");
    }
}
