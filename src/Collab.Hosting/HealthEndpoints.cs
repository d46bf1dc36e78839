using Collab.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Collab.Hosting;

/// <summary><c>/healthz</c> (the process answers) and <c>/readyz</c> (the cluster has an active silo and, where this process holds one, the store answers).</summary>
public static class HealthEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));

        app.MapGet("/readyz", async (IGrainFactory grains, IServiceProvider services, CancellationToken cancellationToken) =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var hosts = await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(timeout.Token);
                if (hosts.Count == 0) return Results.Text("not ready: no active silo\n", statusCode: 503);
                var store = services.GetService<IDocumentStore>();
                if (store is not null) await store.PingAsync(timeout.Token);
                return Results.Text($"ready: {hosts.Count} silo(s){(store is null ? "" : ", store reachable")}\n");
            }
            catch (Exception e)
            {
                return Results.Text($"not ready: {e.GetType().Name}: {e.Message}\n", statusCode: 503);
            }
        });
    }
}
