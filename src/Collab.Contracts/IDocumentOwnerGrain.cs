namespace Collab.Contracts;

/// <summary>
/// One per owner (key: <c>address:&lt;client address&gt;</c> or <c>sub:&lt;token subject&gt;</c>): creates documents for
/// that owner one at a time, so the count it holds against <c>Collab:Access:MaxDocumentsPerOwner</c> cannot be raced,
/// whichever front end the requests reach.
/// </summary>
public interface IDocumentOwnerGrain : IGrainWithStringKey
{
    /// <summary>
    /// Creates the document for this owner unless the owner already created <paramref name="maxDocuments"/> (0: no cap).
    /// With <paramref name="withAccess"/> (Links mode) the document gets its access record, as
    /// <see cref="IDocumentGrain.CreateAccess"/>; without (Tokens mode) it is only recorded as the owner's.
    /// </summary>
    Task<Creation> Create(string documentId, bool withAccess, int maxDocuments);
}

/// <summary>What a creation did.</summary>
[GenerateSerializer]
public enum CreationStatus
{
    Created,

    /// <summary>The document exists already (has an access record, or content someone else wrote): nothing was counted.</summary>
    Exists,

    /// <summary>The owner reached the cap: nothing was created.</summary>
    OverQuota,
}

/// <summary>A creation's outcome, the new access record (Links mode), and how many documents the owner now has.</summary>
[GenerateSerializer, Immutable, Alias("collab.Creation")]
public sealed record Creation(
    [property: Id(0)] CreationStatus Status,
    [property: Id(1)] DocumentAccess? Access,
    [property: Id(2)] int Owned);
