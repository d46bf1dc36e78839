namespace Collab.Storage;

/// <summary>A token revocation as stored: <see cref="Kind"/> is <c>token</c> (a <c>jti</c>) or <c>user</c> (a <c>sub</c>).</summary>
public sealed record StoredRevocation(string Kind, string Value, DateTimeOffset RevokedAt, DateTimeOffset ExpiresAt);
