namespace Collab.Web.Hosting;

/// <summary>WebSocket front-end limits and policies, bound from <c>Collab:FrontEnd</c>.</summary>
public sealed class FrontEndOptions
{
    public const string Section = "Collab:FrontEnd";

    /// <summary>Origins allowed to open <c>/ws</c> besides the server's own; <c>*</c> allows any. Requests without Origin (non-browsers) are allowed.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    /// <summary>Interval of server keep-alive pings and the heartbeat a client should keep (<c>heartbeatMs</c> in <c>welcome</c>).</summary>
    public int HeartbeatMs { get; set; } = 20_000;

    /// <summary>A peer that does not answer a keep-alive ping within this time is dropped (its presence goes with it).</summary>
    public int HeartbeatTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// Fallback transport: a session that POSTs nothing (not even <c>ping</c>) for this long is closed with 4408. Longer
    /// than a few heartbeats because browsers throttle timers in hidden tabs to about once a minute.
    /// </summary>
    public int FallbackIdleTimeoutMs { get; set; } = 120_000;

    /// <summary>The largest frame a client may send, in bytes (<c>too_large</c>, close 1009 beyond).</summary>
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Frames queued for one session before it is considered stalled and closed with 4409.</summary>
    public int SendQueueFrames { get; set; } = 4096;

    /// <summary>Bytes queued for one session before it is considered stalled and closed with 4409 (large ops fill it before the frame count does).</summary>
    public int SendQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How many documents one socket may join at once.</summary>
    public int MaxDocumentsPerSession { get; set; } = 32;

    /// <summary>Sustained rate of <c>op</c> and <c>presence</c> frames one session may send per second; beyond it they get <c>rate_limited</c>.</summary>
    public double MessagesPerSecond { get; set; } = 200;

    /// <summary>How many <c>op</c>/<c>presence</c> frames a session may send in a burst above the sustained rate (a paste, a reconnect flush).</summary>
    public int MessageBurst { get; set; } = 400;

    /// <summary>Sustained bytes of <c>op</c> frames one session may send per second; beyond the burst they get <c>rate_limited</c>.</summary>
    public double OpBytesPerSecond { get; set; } = 2 * 1024 * 1024;

    /// <summary>Bytes of <c>op</c> frames a session may send at once above that rate (a large paste arrives in parts that fit it).</summary>
    public int OpByteBurst { get; set; } = 16 * 1024 * 1024;

    /// <summary>How long a graceful close waits for the client's close frame before aborting the socket.</summary>
    public int CloseTimeoutMs { get; set; } = 5_000;

    /// <summary>Sustained <c>join</c> frames per second per session (each may activate a document grain).</summary>
    public double JoinsPerSecond { get; set; } = 10;

    /// <summary>Joins above the sustained rate (a page opening many documents at once).</summary>
    public int JoinBurst { get; set; } = 40;

    /// <summary>Sustained <c>/api/…</c> requests per second per client address; beyond the burst, <c>429</c> with <c>Retry-After</c>.</summary>
    public int ApiRequestsPerSecond { get; set; } = 50;

    /// <summary>Requests above that rate one address may make at once.</summary>
    public int ApiBurst { get; set; } = 100;

    /// <summary>Live sessions (WebSocket and SSE) this host accepts; more are refused with 4503.</summary>
    public int MaxSessions { get; set; } = 20_000;

    /// <summary>Live sessions from one client address; more are refused with 4429.</summary>
    public int MaxSessionsPerAddress { get; set; } = 200;

    /// <summary>
    /// Proxies whose <c>X-Forwarded-For</c> names the client (their addresses as the server sees them, or <c>*</c> when the
    /// server can only be reached through proxies, as on App Service). Empty: the peer's address is the client's.
    /// </summary>
    public string[] TrustedProxies { get; set; } = [];

    /// <summary>Whether <paramref name="peer"/> is one of <see cref="TrustedProxies"/> (whose forwarded headers count).</summary>
    public bool TrustsProxy(System.Net.IPAddress? peer)
    {
        if (TrustedProxies.Length == 0) return false;
        var text = peer?.IsIPv4MappedToIPv6 == true ? peer.MapToIPv4().ToString() : peer?.ToString();
        return TrustedProxies.Any(p => p == "*" || string.Equals(p, text, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>A session that has not sent a valid <c>hello</c> this long after it opened is closed (4400).</summary>
    public int HelloTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// How long a session waits for the document to answer an op before it tells the client to resend it (<c>internal</c>
    /// + <c>retryAfterMs</c>; the resend lands once). A frozen or partitioned silo holds its calls until the grain call
    /// timeout; this bounds what an editor waits and keeps its later frames moving meanwhile. 0: no bound of its own
    /// (the default of an embedded server, whose silo is the process itself); client-mode front ends default to
    /// <see cref="ClusterSubmitTimeoutMs"/>.
    /// </summary>
    public int SubmitTimeoutMs { get; set; }

    /// <summary>How long a document feed waits for each of its grain calls before it retries (0: no bound of its own; client mode defaults to <see cref="ClusterFeedCallTimeoutMs"/>).</summary>
    public int FeedCallTimeoutMs { get; set; }

    public const int ClusterSubmitTimeoutMs = 1_000;
    public const int ClusterFeedCallTimeoutMs = 1_000;

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate()
    {
        if (HeartbeatMs is < 1000 or > 30_000) return $"{Section}:HeartbeatMs must be between 1000 and 30000 (was {HeartbeatMs}); proxies cut idle connections at 60 s.";
        if (HeartbeatTimeoutMs < 1000) return $"{Section}:HeartbeatTimeoutMs must be at least 1000 (was {HeartbeatTimeoutMs}).";
        if (FallbackIdleTimeoutMs < 2 * HeartbeatMs) return $"{Section}:FallbackIdleTimeoutMs must be at least twice HeartbeatMs (was {FallbackIdleTimeoutMs}).";
        if (MaxMessageBytes < 1024) return $"{Section}:MaxMessageBytes must be at least 1024 (was {MaxMessageBytes}).";
        if (SendQueueFrames < 16) return $"{Section}:SendQueueFrames must be at least 16 (was {SendQueueFrames}).";
        if (SendQueueBytes < MaxMessageBytes) return $"{Section}:SendQueueBytes must be at least MaxMessageBytes (was {SendQueueBytes}).";
        if (MaxDocumentsPerSession < 1) return $"{Section}:MaxDocumentsPerSession must be at least 1 (was {MaxDocumentsPerSession}).";
        if (MessagesPerSecond <= 0) return $"{Section}:MessagesPerSecond must be positive (was {MessagesPerSecond}).";
        if (MessageBurst < 1) return $"{Section}:MessageBurst must be at least 1 (was {MessageBurst}).";
        if (OpBytesPerSecond < 1024) return $"{Section}:OpBytesPerSecond must be at least 1024 (was {OpBytesPerSecond}).";
        if (OpByteBurst < MaxMessageBytes) return $"{Section}:OpByteBurst must be at least MaxMessageBytes (was {OpByteBurst}).";
        if (JoinsPerSecond <= 0) return $"{Section}:JoinsPerSecond must be positive (was {JoinsPerSecond}).";
        if (JoinBurst < 1) return $"{Section}:JoinBurst must be at least 1 (was {JoinBurst}).";
        if (ApiRequestsPerSecond < 1) return $"{Section}:ApiRequestsPerSecond must be at least 1 (was {ApiRequestsPerSecond}).";
        if (ApiBurst < 1) return $"{Section}:ApiBurst must be at least 1 (was {ApiBurst}).";
        if (MaxSessions < 1) return $"{Section}:MaxSessions must be at least 1 (was {MaxSessions}).";
        if (MaxSessionsPerAddress < 1 || MaxSessionsPerAddress > MaxSessions)
            return $"{Section}:MaxSessionsPerAddress must be between 1 and MaxSessions (was {MaxSessionsPerAddress}).";
        foreach (var proxy in TrustedProxies)
            if (proxy != "*" && !System.Net.IPAddress.TryParse(proxy, out _))
                return $"{Section}:TrustedProxies contains '{proxy}', which is neither '*' nor an IP address.";
        if (SubmitTimeoutMs != 0 && SubmitTimeoutMs is < 100 or > 120_000) return $"{Section}:SubmitTimeoutMs must be 0 or between 100 and 120000 (was {SubmitTimeoutMs}).";
        if (FeedCallTimeoutMs != 0 && FeedCallTimeoutMs is < 100 or > 120_000) return $"{Section}:FeedCallTimeoutMs must be 0 or between 100 and 120000 (was {FeedCallTimeoutMs}).";
        if (HelloTimeoutMs is < 100 or > 120_000) return $"{Section}:HelloTimeoutMs must be between 100 and 120000 (was {HelloTimeoutMs}).";
        if (CloseTimeoutMs < 0) return $"{Section}:CloseTimeoutMs must not be negative (was {CloseTimeoutMs}).";
        foreach (var origin in AllowedOrigins)
            if (origin != "*" && !Uri.TryCreate(origin, UriKind.Absolute, out _))
                return $"{Section}:AllowedOrigins contains '{origin}', which is neither '*' nor an absolute origin like https://example.com.";
        return null;
    }
}
