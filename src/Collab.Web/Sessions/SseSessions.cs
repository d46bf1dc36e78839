using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Collab.Web.Sessions;

/// <summary>The fallback transport's open sessions on this front end, by the unguessable token in their POST URL.</summary>
internal sealed class SseSessions
{
    private readonly ConcurrentDictionary<string, Entry> sessions = new(StringComparer.Ordinal);

    public Entry Add(Session session, SessionProtocol protocol)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
        var entry = new Entry(token, session, protocol);
        sessions[token] = entry;
        return entry;
    }

    public bool TryGet(string token, out Entry entry) => sessions.TryGetValue(token, out entry!);

    public void Remove(Entry entry) => sessions.TryRemove(entry.Token, out _);

    /// <summary>One session: POSTs are handled one at a time, in arrival order, like a socket's frames.</summary>
    internal sealed class Entry(string token, Session session, SessionProtocol protocol)
    {
        public string Token { get; } = token;
        public Session Session { get; } = session;
        public SessionProtocol Protocol { get; } = protocol;
        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>When the client last POSTed (ticks of <see cref="Environment.TickCount64"/>).</summary>
        public long LastPost { get; set; } = Environment.TickCount64;
    }
}
