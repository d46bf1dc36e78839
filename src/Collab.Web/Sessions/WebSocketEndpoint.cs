using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Collab.Web.Sessions;

/// <summary><c>GET /ws</c>: checks origin and subprotocol, then runs a collab.v1 session on the upgraded socket.</summary>
internal static partial class WebSocketEndpoint
{
    public const string Subprotocol = "collab.v1";

    public static async Task HandleAsync(HttpContext context, IGrainFactory grains, DocumentFeeds feeds, IOptions<FrontEndOptions> frontEnd,
        IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var options = frontEnd.Value;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"/ws expects a WebSocket upgrade with Sec-WebSocket-Protocol: {Subprotocol}.\n");
            return;
        }
        if (!IsOriginAllowed(context.Request, options))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync($"Origin '{context.Request.Headers.Origin}' is not allowed; see Collab:FrontEnd:AllowedOrigins.\n");
            return;
        }
        if (!context.WebSockets.WebSocketRequestedProtocols.Contains(Subprotocol, StringComparer.Ordinal))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"Unsupported WebSocket subprotocol; supported: {Subprotocol}.\n");
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = Subprotocol,
            KeepAliveInterval = TimeSpan.FromMilliseconds(options.HeartbeatMs),
            KeepAliveTimeout = TimeSpan.FromMilliseconds(options.HeartbeatTimeoutMs),
            DangerousEnableCompression = false,
        });
        var logger = loggers.CreateLogger("Collab.Web.Sessions");
        var session = new Session(options, logger);
        var protocol = new SessionProtocol(session, grains, feeds, options, logger);
        LogOpened(logger, session.Id, context.Connection.RemoteIpAddress?.ToString());
        try
        {
            await WebSocketTransport.RunAsync(session, socket, options, logger, protocol.HandleAsync, lifetime.ApplicationStopping);
        }
        finally
        {
            await protocol.LeaveAllAsync();
            LogClosed(logger, session.Id);
        }
    }

    /// <summary>Browsers always send Origin; same-origin is allowed, others only when listed. Non-browser clients send none.</summary>
    private static bool IsOriginAllowed(HttpRequest request, FrontEndOptions options)
    {
        var origin = request.Headers.Origin;
        if (StringValues.IsNullOrEmpty(origin)) return true;
        var value = origin.ToString();
        if (options.AllowedOrigins.Contains("*")) return true;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)) return false;
        if (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var allowed in options.AllowedOrigins)
            if (Uri.TryCreate(allowed, UriKind.Absolute, out var a) && Uri.Compare(a, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
                return true;
        return false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} opened from {Remote}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string? remote);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} closed")]
    private static partial void LogClosed(ILogger logger, string sessionId);
}
