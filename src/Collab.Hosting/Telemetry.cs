using Azure.Identity;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Instrumentation.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Collab.Hosting;

/// <summary>
/// Traces, metrics and logs to Application Insights through OpenTelemetry, when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c>
/// is set (App Service gets it from the Bicep); without it nothing is registered and nothing leaves the process.
/// </summary>
public static class Telemetry
{
    /// <summary>The setting (an environment variable on App Service) that turns the exporter on.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Orleans' meter: grain calls, activations, messaging, membership.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>Collab's own meters (<c>Collab.Storage</c>, …).</summary>
    public const string CollabMeters = "Collab.*";

    /// <summary>Orleans' activity sources for grain calls (runtime and application grains), with activity propagation on.</summary>
    public static readonly string[] OrleansActivitySources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    private static readonly PathString[] Probes = ["/healthz", "/readyz"];

    public static bool IsEnabled(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[ConnectionStringSetting]);

    /// <summary>Adds the Azure Monitor exporter with Orleans' meter and activity sources, if the connection string is set.</summary>
    public static void AddCollabTelemetry(this IHostApplicationBuilder builder)
    {
        if (!IsEnabled(builder.Configuration) || builder.Properties.ContainsKey(typeof(Telemetry))) return;
        builder.Properties[typeof(Telemetry)] = true;
        var connectionString = builder.Configuration[ConnectionStringSetting];

        builder.Services.AddOpenTelemetry()
            .UseAzureMonitor(o =>
            {
                o.ConnectionString = connectionString;
                // The Bicep disables local (key) authentication on Application Insights: ingestion needs an Entra token,
                // here the app's user-assigned identity (DefaultAzureCredential reads its id from AZURE_CLIENT_ID).
                o.Credential = new DefaultAzureCredential();
            })
            // The cloud role name in Application Insights: Collab.Web or Collab.Silo.
            .ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithTracing(t => t.AddSource(OrleansActivitySources))
            .WithMetrics(m => m.AddMeter(OrleansMeter, CollabMeters));

        // App Service probes /readyz every minute on every instance: requests worth no trace.
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(o =>
            o.Filter = context => !Probes.Contains(context.Request.Path));
    }
}
