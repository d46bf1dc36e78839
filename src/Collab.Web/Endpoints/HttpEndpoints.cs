using Collab.Contracts;
using Collab.Web.Protocol;

namespace Collab.Web.Endpoints;

/// <summary>The HTTP surface besides the WebSocket and the health probes: document reads.</summary>
internal static class HttpEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/docs/{doc}", async (string doc, IGrainFactory grains) =>
        {
            if (!Identifiers.IsValidDocumentId(doc))
                return Results.Problem(statusCode: 400, title: "invalid document id", detail: "a document id is 1-128 characters of A-Z a-z 0-9 . _ -");
            try
            {
                var state = await grains.GetGrain<IDocumentGrain>(doc).GetState();
                return Results.Json(new { doc, rev = state.Rev, text = state.Text });
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException or OrleansException)
            {
                // The document is moving to a new activation (or its silo is unreachable): a retry will succeed.
                return Results.Problem(statusCode: 503, title: "document unavailable", detail: "the document is moving; retry shortly",
                    extensions: new Dictionary<string, object?> { ["retryAfterMs"] = 500 });
            }
        });
    }
}
