namespace Collab.Contracts;

/// <summary>What a revocation names: one token (its <c>jti</c>) or a user (<c>sub</c>: every token issued until then).</summary>
[GenerateSerializer]
public enum RevocationKind
{
    Token,
    User,
}

/// <summary>One revocation; kept until <see cref="ExpiresAt"/>, when every token it could match has expired anyway.</summary>
[GenerateSerializer, Immutable, Alias("collab.Revocation")]
public sealed record Revocation(
    [property: Id(0)] RevocationKind Kind,
    [property: Id(1)] string Value,
    [property: Id(2)] DateTimeOffset RevokedAt,
    [property: Id(3)] DateTimeOffset ExpiresAt);

/// <summary>The cluster's revocations at a version; <see cref="Entries"/> is empty when the caller already holds this version.</summary>
[GenerateSerializer, Immutable, Alias("collab.RevocationList")]
public sealed record RevocationList([property: Id(0)] long Version, [property: Id(1)] Revocation[] Entries, [property: Id(2)] bool Changed);

/// <summary>The one grain (key 0) holding the cluster's token revocations, persisted in the document store.</summary>
public interface IRevocationsGrain : IGrainWithIntegerKey
{
    /// <summary>The list, unless <paramref name="knownVersion"/> is current (then <c>Changed</c> is false and no entries are sent).</summary>
    Task<RevocationList> Get(long knownVersion);

    /// <summary>Adds (or extends) a revocation durably, then answers the new list.</summary>
    Task<RevocationList> Revoke(Revocation revocation);
}
