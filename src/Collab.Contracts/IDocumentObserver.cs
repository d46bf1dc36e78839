using Orleans.Concurrency;

namespace Collab.Contracts;

/// <summary>
/// Implemented once per front-end host; receives one notification per commit for every document the host subscribed to.
/// Delivery is best effort: hosts detect revision gaps and catch up with <see cref="IDocumentGrain.GetOps"/>.
/// </summary>
public interface IDocumentObserver : IGrainObserver
{
    /// <summary>A batch of consecutive committed ops (one group commit).</summary>
    [OneWay]
    Task OnCommitted(string documentId, CommittedOp[] ops);

    /// <summary>A session's presence changed (<paramref name="presence"/> set) or it left (<paramref name="leftSessionId"/> set).</summary>
    [OneWay]
    Task OnPresence(string documentId, PresenceState? presence, string? leftSessionId);

    /// <summary>The document's share links were rotated: sessions holding a link of an older generation lose access.</summary>
    [OneWay]
    Task OnAccessChanged(string documentId, DocumentAccess access);
}
