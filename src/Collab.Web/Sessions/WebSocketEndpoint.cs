using System.Net.WebSockets;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Microsoft.Extensions.Options;

namespace Collab.Web.Sessions;

/// <summary><c>GET /ws</c>: checks origin and subprotocol, then runs a collab.v1 session on the upgraded socket.</summary>
internal static partial class WebSocketEndpoint
{
    public const string Subprotocol = "collab.v1";

    public static async Task HandleAsync(HttpContext context, IGrainFactory grains, DocumentFeeds feeds, Access.AccessPolicy access, Access.TokenSessions tokens, ConnectionLimiter limiter, IOptions<FrontEndOptions> frontEnd,
        IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var options = frontEnd.Value;
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync($"/ws expects a WebSocket upgrade with Sec-WebSocket-Protocol: {Subprotocol}.\n");
            return;
        }
        if (!OriginPolicy.IsAllowed(context.Request, options))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync(OriginPolicy.Refusal(context.Request));
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
        // Refused after the upgrade, with a close code, so the client can tell why (a refused upgrade is opaque to it).
        using var lease = limiter.TryAcquire(context, out var refusedCode, out var refusedReason);
        if (lease is null)
        {
            LogRefused(logger, limiter.ClientAddress(context), refusedCode);
            using var timeout = new CancellationTokenSource(options.CloseTimeoutMs);
            try
            {
                await socket.CloseAsync((WebSocketCloseStatus)refusedCode, refusedReason, timeout.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or WebSocketException)
            {
                // The client did not answer the close: the socket is dropped with the request.
            }
            return;
        }
        var session = new Session(options, logger);
        var protocol = new SessionProtocol(session, grains, feeds, options, access, tokens, logger);
        LogOpened(logger, session.Id, context.Connection.RemoteIpAddress?.ToString());
        try
        {
            await WebSocketTransport.RunAsync(session, socket, options, logger, protocol.HandleAsync, protocol.TryAnswerAtOnce, lifetime.ApplicationStopping);
        }
        finally
        {
            await protocol.LeaveAllAsync();
            LogClosed(logger, session.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} opened from {Remote}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string? remote);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a session from {Address} with {Code}: connection cap reached")]
    private static partial void LogRefused(ILogger logger, string address, int code);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Session {SessionId} closed")]
    private static partial void LogClosed(ILogger logger, string sessionId);
}
