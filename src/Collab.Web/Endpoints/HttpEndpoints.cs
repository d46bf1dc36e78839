using Collab.Contracts;
using Collab.Web.Protocol;

namespace Collab.Web.Endpoints;

/// <summary>The HTTP surface besides the WebSocket and the health probes: document reads and status.</summary>
internal static class HttpEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/docs/{doc}", (string doc, IGrainFactory grains) => WithDocument(doc, grains, async grain =>
        {
            var state = await grain.GetState();
            return Results.Json(new { doc, rev = state.Rev, text = state.Text });
        }));

        app.MapGet("/api/docs/{doc}/status", (string doc, IGrainFactory grains) => WithDocument(doc, grains, async grain =>
        {
            var s = await grain.GetStatus();
            return Results.Json(new
            {
                doc,
                rev = s.CommittedRev,
                snapshotRev = s.SnapshotRev,
                pendingOps = s.PendingOps,
                silo = s.Silo,
                activatedAt = s.ActivatedAt,
                subscribedHosts = s.SubscribedHosts,
                presences = s.Presences,
            });
        }));
    }

    private static async Task<IResult> WithDocument(string doc, IGrainFactory grains, Func<IDocumentGrain, Task<IResult>> read)
    {
        if (!Identifiers.IsValidDocumentId(doc))
            return Results.Problem(statusCode: 400, title: "invalid document id", detail: "a document id is 1-128 characters of A-Z a-z 0-9 . _ -");
        try
        {
            return await read(grains.GetGrain<IDocumentGrain>(doc));
        }
        catch (Exception e) when (e is DocumentUnavailableException or TimeoutException or OrleansException)
        {
            // The document is moving to a new activation (or its silo is unreachable): a retry will succeed.
            return Results.Problem(statusCode: 503, title: "document unavailable", detail: "the document is moving; retry shortly",
                extensions: new Dictionary<string, object?> { ["retryAfterMs"] = 500 });
        }
    }
}
