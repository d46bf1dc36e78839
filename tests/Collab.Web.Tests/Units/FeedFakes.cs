using Collab.Contracts;
using Collab.Web.Fanout;
using Collab.Web.Protocol;

namespace Collab.Web.Tests.Units;

/// <summary>A feed host without a cluster, for driving <see cref="DocumentFeed"/> by hand.</summary>
internal sealed class TestFeedHost : IFeedHost
{
    public List<DocumentFeed> Forgotten { get; } = [];
    public string HostId => "test-host";
    public AuthorTags Tags { get; } = new(new byte[32]);
    public IDocumentObserver Reference => null!;
    public TimeSpan CallTimeout { get; set; } = Timeout.InfiniteTimeSpan;
    public void Forget(DocumentFeed feed) => Forgotten.Add(feed);
}

/// <summary>A document grain that answers nothing a feed test does not override.</summary>
internal abstract class FakeDocumentGrain : IDocumentGrain
{
    public abstract Task<long> Subscribe(string hostId, IDocumentObserver observer);
    public virtual Task<CommittedOp[]> GetOps(long afterRev, int maxCount) => throw new NotSupportedException();
    public virtual Task<DocumentAccess?> GetAccess() => throw new NotSupportedException();
    public Task<JoinResult> Join(long? sinceRev) => throw new NotSupportedException();
    public Task<SubmitResult> Submit(SubmitRequest request) => throw new NotSupportedException();
    public Task<DocumentState> GetState() => throw new NotSupportedException();
    public Task Unsubscribe(string hostId) => Task.CompletedTask;
    public Task SetPresence(string hostId, PresenceState presence) => Task.CompletedTask;
    public Task<DocumentStatus> GetStatus() => throw new NotSupportedException();
    public Task RemovePresence(string sessionId) => Task.CompletedTask;
    public Task<bool> ClaimClient(ClientClaim claim) => throw new NotSupportedException();
    public Task<DocumentAccess?> CreateAccess(bool claimExisting) => throw new NotSupportedException();
    public Task<DocumentAccess?> RotateAccess(LinkKind kind) => throw new NotSupportedException();
}
