namespace Collab.Contracts;

/// <summary>An activation's view of its document: revisions, the silo hosting it, and who is subscribed.</summary>
[GenerateSerializer, Immutable, Alias("collab.DocumentStatus")]
public sealed record DocumentStatus(
    [property: Id(0)] long CommittedRev,
    [property: Id(1)] long SnapshotRev,
    [property: Id(2)] int PendingOps,
    [property: Id(3)] string Silo,
    [property: Id(4)] DateTime ActivatedAt,
    [property: Id(5)] int SubscribedHosts,
    [property: Id(6)] int Presences);
