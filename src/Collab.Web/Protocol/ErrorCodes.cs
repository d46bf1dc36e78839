namespace Collab.Web.Protocol;

/// <summary>The <c>code</c> values of collab.v1 <c>error</c> frames (docs/protocol.md explains each).</summary>
public static class ErrorCodes
{
    public const string BadJson = "bad_json";
    public const string UnknownType = "unknown_type";
    public const string BadRequest = "bad_request";
    public const string BadOp = "bad_op";
    public const string StaleRev = "stale_rev";
    public const string NotJoined = "not_joined";
    public const string TooLarge = "too_large";
    public const string RateLimited = "rate_limited";
    public const string Forbidden = "forbidden";
    public const string Unauthorized = "unauthorized";
    public const string ClientIdInUse = "client_id_in_use";
    public const string Internal = "internal";
}

/// <summary>WebSocket close codes the server uses, and when.</summary>
public static class CloseCodes
{
    /// <summary>The session ended normally (the client closed, or left).</summary>
    public const int Normal = 1000;
    /// <summary>The server is shutting down; reconnect (to another front end) and resume with join+rev.</summary>
    public const int GoingAway = 1001;
    /// <summary>The client broke the framing rules (a binary frame, for example).</summary>
    public const int ProtocolError = 1002;
    /// <summary>A frame exceeded <c>maxMessageBytes</c>.</summary>
    public const int MessageTooBig = 1009;
    /// <summary>An unexpected server failure.</summary>
    public const int InternalError = 1011;
    /// <summary>Fallback transport: no POST (not even a ping) arrived for three heartbeat intervals.</summary>
    public const int HeartbeatTimeout = 4408;
    /// <summary>Too many live sessions from the client's address (<c>MaxSessionsPerAddress</c>); retry later with backoff.</summary>
    public const int TooManyFromAddress = 4429;
    /// <summary>The host holds its maximum of sessions (<c>MaxSessions</c>); retry later, possibly elsewhere.</summary>
    public const int ServerFull = 4503;
    /// <summary>No valid <c>hello</c> within <c>HelloTimeoutMs</c> of opening: a client that never introduces itself holds nothing.</summary>
    public const int HelloTimeout = 4400;
    /// <summary>Tokens mode: the session's token expired and was not refreshed (send <c>auth</c> with a new one before it does).</summary>
    public const int Expired = 4401;
    /// <summary>A credential the session relied on was revoked (its share link rotated); get a new one, then reconnect.</summary>
    public const int Revoked = 4403;
    /// <summary>The client stopped reading and its send queue overflowed; reconnect and resume with join+rev.</summary>
    public const int SendQueueOverflow = 4409;
}
