using System.Collections.Concurrent;
using Collab.Web.Protocol;
using Collab.Web.Sessions;

namespace Collab.Web.Access;

/// <summary>
/// Tokens mode, on this front end: the sessions signed in with a token, and the cluster's revocations. When the
/// revocations change, every session whose token they now cover is closed with 4403.
/// </summary>
internal sealed partial class TokenSessions(ILogger<TokenSessions> logger)
{
    private readonly ConcurrentDictionary<Session, byte> sessions = new();

    public Revocations Revocations { get; } = new();

    public int Count => sessions.Count;

    public void Add(Session session) => sessions.TryAdd(session, 0);

    public void Remove(Session session) => sessions.TryRemove(session, out _);

    /// <summary>Closes the sessions whose identity is revoked now; returns how many.</summary>
    public int CloseRevoked()
    {
        var closed = 0;
        foreach (var session in sessions.Keys)
        {
            if (session.Identity is not { } identity || !Revocations.IsRevoked(identity)) continue;
            if (session.Close(CloseCodes.Revoked, "your sign-in was revoked; sign in again"))
            {
                closed++;
                LogRevoked(logger, session.Id, identity.Subject);
            }
        }
        return closed;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Session {SessionId} of user {Subject}: token revoked; closing with 4403")]
    private static partial void LogRevoked(ILogger logger, string sessionId, string subject);
}
