using System.Security.Cryptography;
using System.Text;
using Collab.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collab.Hosting;

/// <summary>
/// <c>/healthz</c> — liveness: the process answers. <c>/readyz</c> — readiness: this instance should take new sessions,
/// which means the cluster has an active silo. The store is not part of readiness: an outage of the one store every
/// instance shares would take every instance out of rotation at once, and no other instance could do better. It is
/// reported to operators (with the error) and in the log; anonymous callers never see exception text.
/// </summary>
public static partial class HealthEndpoints
{
    /// <summary>Binds <see cref="OperationsOptions"/> (once, whichever host kind calls it).</summary>
    public static void AddOperations(IServiceCollection services)
    {
        if (services.Any(s => s.ServiceType == typeof(IValidateOptions<OperationsOptions>))) return;
        ValidatedOptions.Add<OperationsOptions>(services, OperationsOptions.Section, o => o.Validate());
    }

    public static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => Results.Text("ok\n"));

        app.MapGet("/readyz", async (HttpContext context, IGrainFactory grains, IServiceProvider services, IOptions<OperationsOptions> operations,
            ILoggerFactory loggers, CancellationToken cancellationToken) =>
        {
            var logger = loggers.CreateLogger("Collab.Hosting.Health");
            var isOperator = IsOperator(context.Request, operations.Value);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            int silos;
            try
            {
                silos = (await grains.GetGrain<IManagementGrain>(0).GetHosts(onlyActive: true).WaitAsync(timeout.Token)).Count;
            }
            catch (Exception e)
            {
                LogClusterUnreachable(logger, e);
                return Results.Text(isOperator ? $"not ready: the cluster did not answer: {e.GetType().Name}: {e.Message}\n" : "not ready: the cluster did not answer\n",
                    statusCode: 503);
            }
            if (silos == 0) return Results.Text("not ready: no active silo\n", statusCode: 503);

            var text = new StringBuilder($"ready: {silos} silo(s)");
            if (services.GetService<IDocumentStore>() is { } store)
            {
                try
                {
                    await store.PingAsync(timeout.Token);
                    text.Append(", store reachable");
                }
                catch (Exception e)
                {
                    LogStoreUnreachable(logger, e);
                    text.Append(isOperator ? $", store unreachable: {e.GetType().Name}: {e.Message}" : ", store unreachable");
                }
            }
            return Results.Text(text.Append('\n').ToString());
        });
    }

    /// <summary>Whether the request carries <c>Authorization: Bearer     private static bool IsOperator(HttpRequest request, OperationsOptions options)lt;Collab:Operations:OperatorKey    private static bool IsOperator(HttpRequest request, OperationsOptions options)gt;</c> (never, when no key is set).</summary>
    public static bool IsOperator(HttpRequest request, OperationsOptions options)
    {
        if (string.IsNullOrEmpty(options.OperatorKey)) return false;
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.Ordinal)) return false;
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..]), Encoding.UTF8.GetBytes(options.OperatorKey));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "/readyz: the cluster did not answer")]
    private static partial void LogClusterUnreachable(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "/readyz: the document store did not answer (readiness is kept: every instance shares it)")]
    private static partial void LogStoreUnreachable(ILogger logger, Exception error);
}
