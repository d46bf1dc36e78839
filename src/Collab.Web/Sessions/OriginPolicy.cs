using Collab.Web.Hosting;
using Microsoft.Extensions.Primitives;

namespace Collab.Web.Sessions;

/// <summary>Which pages may open a session (<c>/ws</c> and <c>/sse</c>): the server's own origin, and <c>Collab:FrontEnd:AllowedOrigins</c>.</summary>
internal static class OriginPolicy
{
    /// <summary>Browsers always send Origin; same-origin is allowed, others only when listed. Non-browser clients send none.</summary>
    public static bool IsAllowed(HttpRequest request, FrontEndOptions options)
    {
        var origin = request.Headers.Origin;
        if (StringValues.IsNullOrEmpty(origin)) return true;
        var value = origin.ToString();
        if (options.AllowedOrigins.Contains("*")) return true;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri)) return false;
        // Same origin: host, port and scheme. Behind a TLS-terminating proxy the request arrives as http; the proxy's
        // X-Forwarded-Proto says what the browser used, and counts only from a trusted proxy.
        if (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && string.Equals(uri.Scheme, PublicScheme(request, options), StringComparison.OrdinalIgnoreCase))
            return true;
        foreach (var allowed in options.AllowedOrigins)
            if (Uri.TryCreate(allowed, UriKind.Absolute, out var a) && Uri.Compare(a, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
                return true;
        return false;
    }

    /// <summary>The refusal's text: names the Origin, cut to 100 printable characters (headers can be 32 KB and anything).</summary>
    public static string Refusal(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        var shown = new string([.. origin.Take(100).Select(c => c is >= ' ' and <= '~' ? c : '?')]) + (origin.Length > 100 ? "..." : "");
        return $"Origin '{shown}' is not allowed; see Collab:FrontEnd:AllowedOrigins.\n";
    }

    private static string PublicScheme(HttpRequest request, FrontEndOptions options)
    {
        var forwarded = request.Headers["X-Forwarded-Proto"].ToString();
        if (forwarded.Length == 0 || !options.TrustsProxy(request.HttpContext.Connection.RemoteIpAddress)) return request.Scheme;
        return forwarded.Split(',')[0].Trim();
    }
}
