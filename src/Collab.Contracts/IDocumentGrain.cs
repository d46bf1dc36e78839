namespace Collab.Contracts;

/// <summary>One activation per document id: validates, transforms, orders, commits and broadcasts operations.</summary>
public interface IDocumentGrain : IGrainWithStringKey
{
    /// <summary>
    /// The committed state to start editing from: the full text, or — when <paramref name="sinceRev"/> is given and the
    /// ops after it are still retrievable — only those ops. Includes the current presences.
    /// </summary>
    Task<JoinResult> Join(long? sinceRev);

    /// <summary>Submits an op; completes only once the op is durably committed (or rejected).</summary>
    Task<SubmitResult> Submit(SubmitRequest request);

    /// <summary>Up to <paramref name="maxCount"/> committed ops after <paramref name="afterRev"/>, for hosts catching up on a gap.</summary>
    Task<CommittedOp[]> GetOps(long afterRev, int maxCount);

    /// <summary>The committed text and revision.</summary>
    Task<DocumentState> GetState();

    /// <summary>
    /// Subscribes (or renews) a front-end host's observer; returns the committed revision so the host can detect
    /// notifications it missed. A subscription not renewed within the configured expiry is dropped.
    /// </summary>
    Task<long> Subscribe(string hostId, IDocumentObserver observer);

    /// <summary>Drops a host's subscription and the presences of its sessions.</summary>
    Task Unsubscribe(string hostId);

    /// <summary>Records a session's cursor/selection and relays it to every subscribed host.</summary>
    Task SetPresence(string hostId, PresenceState presence);

    /// <summary>Where and how the document is served: for operators and failover tests.</summary>
    Task<DocumentStatus> GetStatus();

    /// <summary>
    /// Claims the session's client key in this document before it joins; false when another live session of a different
    /// instance holds it (two sessions sharing one key would have their ops taken for each other's resends).
    /// </summary>
    Task<bool> ClaimClient(ClientClaim claim);

    /// <summary>The document's share-link generations; null when it was not created with access control.</summary>
    Task<DocumentAccess?> GetAccess();

    /// <summary>
    /// Gives the document an access record at generation 1 of every kind; null when it already has one, or when it
    /// already has content and <paramref name="claimExisting"/> is false (nobody may claim someone else's document).
    /// </summary>
    Task<DocumentAccess?> CreateAccess(bool claimExisting);

    /// <summary>Revokes every link of <paramref name="kind"/> by bumping its generation; null when the document has no access record.</summary>
    Task<DocumentAccess?> RotateAccess(LinkKind kind);

    /// <summary>Forgets a session's presence (it left or disconnected) and tells every subscribed host.</summary>
    Task RemovePresence(string sessionId);
}
