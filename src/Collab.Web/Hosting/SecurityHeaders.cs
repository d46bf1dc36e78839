namespace Collab.Web.Hosting;

/// <summary>
/// Headers every response carries: no MIME sniffing, no referrer (a share link's path names its document), no framing by
/// other sites, and on the pages a Content-Security-Policy that lets them load only their own scripts and connect only
/// to their own origin's WebSocket and HTTP endpoints.
/// </summary>
internal static class SecurityHeaders
{
    // CodeMirror injects its style sheets at run time, so styles need 'unsafe-inline'; scripts never do.
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public static void Use(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var headers = context.Response.Headers;
        context.Response.OnStarting(() =>
        {
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            if (context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
            // Behind TLS (App Service terminates it and says so): browsers keep to https for a year.
            if (context.Request.IsHttps || string.Equals(context.Request.Headers["X-Forwarded-Proto"], "https", StringComparison.OrdinalIgnoreCase))
                headers.StrictTransportSecurity = "max-age=31536000";
            return Task.CompletedTask;
        });
        await next(context);
    });
}
