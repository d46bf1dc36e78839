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
        var host = new Host();
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

    private sealed class Host : IFeedHost
    {
        public List<DocumentFeed> Forgotten { get; } = [];
        public string HostId => "test-host";
        public AuthorTags Tags { get; } = new(new byte[32]);
        public IDocumentObserver Reference => null!;
        public void Forget(DocumentFeed feed) => Forgotten.Add(feed);
    }

    private sealed class FailingGrain : IDocumentGrain
    {
        public Task<long> Subscribe(string hostId, IDocumentObserver observer) => throw new DocumentUnavailableException("store down");
        public Task<JoinResult> Join(long? sinceRev) => throw new NotSupportedException();
        public Task<SubmitResult> Submit(SubmitRequest request) => throw new NotSupportedException();
        public Task<CommittedOp[]> GetOps(long afterRev, int maxCount) => throw new NotSupportedException();
        public Task<DocumentState> GetState() => throw new NotSupportedException();
        public Task Unsubscribe(string hostId) => Task.CompletedTask;
        public Task SetPresence(string hostId, PresenceState presence) => Task.CompletedTask;
        public Task<DocumentStatus> GetStatus() => throw new NotSupportedException();
        public Task RemovePresence(string sessionId) => Task.CompletedTask;
        public Task<DocumentAccess?> GetAccess() => throw new NotSupportedException();
        public Task<bool> ClaimClient(ClientClaim claim) => throw new NotSupportedException();
        public Task<DocumentAccess?> CreateAccess(bool claimExisting) => throw new NotSupportedException();
        public Task<DocumentAccess?> RotateAccess(LinkKind kind) => throw new NotSupportedException();
    }
}
