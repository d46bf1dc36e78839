using Collab.Contracts;

namespace Collab.Grains.Core;

/// <summary>
/// Which live session holds each client key of a document, so two live sessions never share one (their seqs would
/// collide in dedupe and one's ops would be dropped as the other's resends). A claim succeeds when the key is free, held
/// by the same session, or held by a session of the same instance (the same page reconnecting: its old session is
/// gone or going). A holder is released when its session leaves or its host's subscription ends. Pure.
/// </summary>
public sealed class ClientHolders
{
    private readonly Dictionary<string, ClientClaim> byKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> keyBySession = new(StringComparer.Ordinal);

    public int Count => byKey.Count;

    public bool Claim(ClientClaim claim)
    {
        if (byKey.TryGetValue(claim.ClientKey, out var holder) && holder.SessionId != claim.SessionId
            && (claim.Instance is null || holder.Instance != claim.Instance))
            return false;
        if (holder is not null) keyBySession.Remove(holder.SessionId);
        // A session holds one key per document: a session that changed key (it cannot, today) would release the old one.
        if (keyBySession.Remove(claim.SessionId, out var previous)) byKey.Remove(previous);
        byKey[claim.ClientKey] = claim;
        keyBySession[claim.SessionId] = claim.ClientKey;
        return true;
    }

    public void Release(string sessionId)
    {
        if (keyBySession.Remove(sessionId, out var key)) byKey.Remove(key);
    }

    public void ReleaseHost(string hostId)
    {
        foreach (var claim in byKey.Values.Where(c => c.HostId == hostId).ToList())
        {
            byKey.Remove(claim.ClientKey);
            keyBySession.Remove(claim.SessionId);
        }
    }

    /// <summary>Keeps only the holders on hosts still subscribed.</summary>
    public void Retain(Func<string, bool> isLiveHost)
    {
        foreach (var claim in byKey.Values.Where(c => !isLiveHost(c.HostId)).ToList())
        {
            byKey.Remove(claim.ClientKey);
            keyBySession.Remove(claim.SessionId);
        }
    }
}
