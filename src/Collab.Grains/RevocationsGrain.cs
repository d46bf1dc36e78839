using Collab.Contracts;
using Collab.Storage;
using Microsoft.Extensions.Logging;

namespace Collab.Grains;

/// <summary>
/// The cluster's token revocations: loaded from the store on activation, added to durably, polled by every front end.
/// The version starts from the activation's clock, so front ends refetch whenever the grain moves to a new silo.
/// </summary>
public sealed partial class RevocationsGrain(IDocumentStore store, ILogger<RevocationsGrain> logger) : Grain, IRevocationsGrain
{
    private readonly Dictionary<(RevocationKind, string), Revocation> entries = [];
    private long version;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<StoredRevocation> loaded;
        try
        {
            loaded = await store.LoadRevocationsAsync(DateTimeOffset.UtcNow, cancellationToken);
        }
        catch (Exception e) when (!PortableExceptionFilter.IsPortable(e))
        {
            // Activation failures reach the caller without passing the call filter: map the store's exception here.
            LogLoadFailed(logger, e);
            throw PortableExceptionFilter.Unavailable(nameof(IRevocationsGrain), nameof(Get));
        }
        foreach (var stored in loaded)
        {
            if (Enum.TryParse<RevocationKind>(stored.Kind, ignoreCase: true, out var kind))
                entries[(kind, stored.Value)] = new Revocation(kind, stored.Value, stored.RevokedAt, stored.ExpiresAt);
        }
        version = DateTime.UtcNow.Ticks;
    }

    public Task<RevocationList> Get(long knownVersion)
    {
        Prune();
        return Task.FromResult(knownVersion == version ? new RevocationList(version, [], Changed: false) : Current());
    }

    public async Task<RevocationList> Revoke(Revocation revocation)
    {
        ArgumentException.ThrowIfNullOrEmpty(revocation.Value);
        if (entries.TryGetValue((revocation.Kind, revocation.Value), out var existing))
        {
            // Revoking again extends: later issue times and later expiries both win.
            revocation = revocation with
            {
                RevokedAt = Max(existing.RevokedAt, revocation.RevokedAt),
                ExpiresAt = Max(existing.ExpiresAt, revocation.ExpiresAt),
            };
        }
        await store.SaveRevocationAsync(new StoredRevocation(revocation.Kind.ToString().ToLowerInvariant(), revocation.Value, revocation.RevokedAt, revocation.ExpiresAt));
        entries[(revocation.Kind, revocation.Value)] = revocation;
        version++;
        return Current();
    }

    private RevocationList Current() => new(version, [.. entries.Values], Changed: true);

    private void Prune()
    {
        var now = DateTimeOffset.UtcNow;
        var expired = entries.Where(e => e.Value.ExpiresAt <= now).Select(e => e.Key).ToList();
        foreach (var key in expired) entries.Remove(key);
        if (expired.Count > 0) version++;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The token revocations could not be loaded from the store")]
    private static partial void LogLoadFailed(ILogger logger, Exception error);

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
