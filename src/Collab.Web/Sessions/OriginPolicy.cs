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
        if (string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase)) return true;
        foreach (var allowed in options.AllowedOrigins)
            if (Uri.TryCreate(allowed, UriKind.Absolute, out var a) && Uri.Compare(a, uri, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0)
                return true;
        return false;
    }
}
