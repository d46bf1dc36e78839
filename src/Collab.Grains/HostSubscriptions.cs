using Collab.Contracts;

namespace Collab.Grains;

/// <summary>The front-end hosts subscribed to a document, when each subscription expires, and the presences of their sessions.</summary>
internal sealed class HostSubscriptions
{
    private readonly Dictionary<string, Subscription> hosts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string HostId, PresenceState State)> presences = new(StringComparer.Ordinal);
    private IDocumentObserver[] observers = [];

    /// <summary>The observers to notify, one per host (cached: notifications are far more frequent than subscription changes).</summary>
    public IDocumentObserver[] Observers => observers;

    public void Renew(string hostId, IDocumentObserver observer, DateTime expiresAt)
    {
        var changed = !hosts.TryGetValue(hostId, out var existing) || !ReferenceEquals(existing.Observer, observer);
        hosts[hostId] = new Subscription(observer, expiresAt);
        if (changed) observers = [.. hosts.Values.Select(s => s.Observer)];
    }

    /// <summary>Removes a host; returns the sessions whose presence went with it.</summary>
    public List<string> Remove(string hostId)
    {
        if (hosts.Remove(hostId)) observers = [.. hosts.Values.Select(s => s.Observer)];
        var gone = new List<string>();
        foreach (var (sessionId, presence) in presences)
            if (presence.HostId == hostId) gone.Add(sessionId);
        foreach (var sessionId in gone) presences.Remove(sessionId);
        return gone;
    }

    /// <summary>Drops every expired host; returns the sessions whose presence went with them.</summary>
    public List<string> Expire(DateTime now)
    {
        var gone = new List<string>();
        foreach (var hostId in hosts.Where(h => h.Value.ExpiresAt <= now).Select(h => h.Key).ToList()) gone.AddRange(Remove(hostId));
        return gone;
    }

    public void SetPresence(string hostId, PresenceState state) => presences[state.SessionId] = (hostId, state);

    public bool RemovePresence(string sessionId) => presences.Remove(sessionId);

    public int PresenceCount => presences.Count;

    public bool IsSubscribed(string hostId) => hosts.ContainsKey(hostId);

    public PresenceState[] Presences() => [.. presences.Values.Select(p => p.State)];

    private readonly record struct Subscription(IDocumentObserver Observer, DateTime ExpiresAt);
}
