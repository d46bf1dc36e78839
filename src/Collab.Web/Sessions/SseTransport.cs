using System.Buffers;
using System.Text;
using System.Text.Json;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Collab.Web.Sessions;

/// <summary>
/// The fallback for networks that block WebSockets: server frames stream down as Server-Sent Events
/// (<c>GET /sse</c>), client frames go up as POSTs (<c>POST /sse</c>) naming the session in the
/// <see cref="SessionHeader"/> header. Same frames, same session semantics; each POST is handled like frames read from a
/// socket, in order. The session's secret travels only in the stream's first event and in that header, never in a URL,
/// which proxies and App Service write to their request logs.
/// </summary>
internal static partial class SseTransport
{
    /// <summary>The request header that carries the session's token on every POST.</summary>
    public const string SessionHeader = "Collab-Session";

    private static readonly byte[] Ping = ": ping\n\n"u8.ToArray();

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/sse", StreamAsync);
        app.MapPost("/sse", PostAsync);
    }

    /// <summary>Opens a session and streams its frames until it closes or the client goes away.</summary>
    private static async Task StreamAsync(HttpContext context, SseSessions sessions, IGrainFactory grains, DocumentFeeds feeds, Access.AccessPolicy access, Access.TokenSessions tokens, ConnectionLimiter limiter,
        IOptions<FrontEndOptions> frontEnd, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        var options = frontEnd.Value;
        if (!OriginPolicy.IsAllowed(context.Request, options))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync(OriginPolicy.Refusal(context.Request));
            return;
        }

        using var lease = limiter.TryAcquire(context, out var refusedCode, out var refusedReason);
        if (lease is null)
        {
            context.Response.StatusCode = refusedCode == CloseCodes.ServerFull ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status429TooManyRequests;
            context.Response.Headers.RetryAfter = "5";
            await context.Response.WriteAsJsonAsync(new { code = refusedCode, message = refusedReason });
            return;
        }
        var logger = loggers.CreateLogger("Collab.Web.Sessions");
        var session = new Session(options, logger);
        var protocol = new SessionProtocol(session, grains, feeds, options, access, tokens, logger);
        var entry = sessions.Add(session, protocol);
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no"; // nginx: do not buffer the stream
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        LogOpened(logger, session.Id);

        using var onStopping = lifetime.ApplicationStopping.Register(() => session.Close(CloseCodes.GoingAway, "server shutting down; reconnect and resume with join+rev"));
        using var gone = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, session.Aborted);
        try
        {
            await WriteEventAsync(response, Frames.Transport("/sse", entry.Token, options.HeartbeatMs), gone.Token);
            await SendLoopAsync(entry, response, options, gone.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            // The client went away (or was aborted); its session ends here.
        }
        finally
        {
            sessions.Remove(entry);
            session.Close(CloseCodes.Normal, "bye");
            await entry.Gate.WaitAsync();
            try
            {
                await protocol.LeaveAllAsync();
            }
            finally
            {
                entry.Gate.Release();
            }
            LogClosed(logger, session.Id);
        }
    }

    /// <summary>The stream's single writer: queued frames, a comment every heartbeat, and the close event at the end.</summary>
    private static async Task SendLoopAsync(SseSessions.Entry entry, HttpResponse response, FrontEndOptions options, CancellationToken cancellationToken)
    {
        var session = entry.Session;
        var idleLimit = (long)options.FallbackIdleTimeoutMs;
        using var next = new OutboxOrHeartbeat(session.Outbox, TimeSpan.FromMilliseconds(options.HeartbeatMs), TimeProvider.System);
        while (true)
        {
            var what = await next.NextAsync(cancellationToken);
            if (what == OutboxOrHeartbeat.Next.Completed) break;
            if (what == OutboxOrHeartbeat.Next.Heartbeat)
            {
                if (Environment.TickCount64 - entry.LastPost > idleLimit)
                    session.Close(CloseCodes.HeartbeatTimeout, $"no ping for {idleLimit} ms; reconnect and resume with join+rev");
                await response.Body.WriteAsync(Ping, cancellationToken);
                await response.Body.FlushAsync(cancellationToken);
                continue;
            }
            // Everything queued goes out in one write and one flush.
            while (session.Outbox.TryRead(out var frame))
            {
                session.Sent(frame);
                if (session.CloseRequest is { Code: CloseCodes.SendQueueOverflow }) break;
                await WriteEventCoreAsync(response, frame, cancellationToken);
            }
            await response.Body.FlushAsync(cancellationToken);
        }
        var (code, reason) = session.CloseRequest ?? (CloseCodes.Normal, "bye");
        await WriteEventAsync(response, Frames.Close(code, reason), cancellationToken);
    }

    /// <summary>Handles the frames of one POST (one per line), in order, after the session's earlier POSTs.</summary>
    private static async Task<IResult> PostAsync(HttpContext context, SseSessions sessions, IOptions<FrontEndOptions> frontEnd)
    {
        var options = frontEnd.Value;
        if (!OriginPolicy.IsAllowed(context.Request, options))
            return Results.Problem(statusCode: 403, title: "origin not allowed", detail: "see Collab:FrontEnd:AllowedOrigins");
        var token = context.Request.Headers[SessionHeader].ToString();
        if (token.Length == 0)
            return Results.Json(new { code = ErrorCodes.BadRequest, message = $"name the session in the {SessionHeader} header (its value is the stream's first event's 'session')" }, statusCode: 400);
        if (!sessions.TryGet(token, out var entry))
            return Results.Json(new { code = "unknown_session", message = "no such session on this front end: open /sse again and resume with join+rev" }, statusCode: 404);

        var body = await ReadBodyAsync(context.Request, options.MaxMessageBytes, context.RequestAborted);
        if (body is null)
            return Results.Json(new { code = ErrorCodes.TooLarge, message = $"a POST is limited to {options.MaxMessageBytes} bytes" }, statusCode: 413);

        // A POST that is one live ping is answered at once, not after the session's earlier POSTs (they may wait on a grain).
        if (body.Value.Span.Trim(" \r\n\t"u8).IndexOf((byte)'\n') < 0 && entry.Session.CloseRequest is null && entry.Protocol.TryAnswerAtOnce(body.Value))
        {
            entry.LastPost = Environment.TickCount64;
            return Results.StatusCode(StatusCodes.Status202Accepted);
        }

        await entry.Gate.WaitAsync(context.RequestAborted);
        try
        {
            entry.LastPost = Environment.TickCount64;
            var rest = body.Value;
            while (!rest.IsEmpty && entry.Session.CloseRequest is null)
            {
                var end = rest.Span.IndexOf((byte)'\n');
                var line = end < 0 ? rest : rest[..end];
                rest = end < 0 ? ReadOnlyMemory<byte>.Empty : rest[(end + 1)..];
                if (line.Span.Trim(" \r\t"u8).IsEmpty) continue;
                await entry.Protocol.HandleAsync(line);
            }
        }
        finally
        {
            entry.Gate.Release();
        }
        return Results.StatusCode(StatusCodes.Status202Accepted);
    }

    /// <summary>The request body, or null when it is larger than <paramref name="max"/> bytes.</summary>
    private static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int max, CancellationToken cancellationToken)
    {
        if (request.ContentLength > max) return null;
        var buffer = new ArrayBufferWriter<byte>(Math.Min(max, 4096));
        while (true)
        {
            var memory = buffer.GetMemory(4096);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0) return buffer.WrittenMemory;
            buffer.Advance(read);
            if (buffer.WrittenCount > max) return null;
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, byte[] frame, CancellationToken cancellationToken)
    {
        await WriteEventCoreAsync(response, frame, cancellationToken);
        await response.Body.FlushAsync(cancellationToken);
    }

    /// <summary>One frame as one event. Frames are single-line JSON (the writer escapes newlines inside strings).</summary>
    private static async Task WriteEventCoreAsync(HttpResponse response, byte[] frame, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync("data: "u8.ToArray(), cancellationToken);
        await response.Body.WriteAsync(frame, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fallback session {SessionId} opened")]
    private static partial void LogOpened(ILogger logger, string sessionId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Fallback session {SessionId} closed")]
    private static partial void LogClosed(ILogger logger, string sessionId);
}
