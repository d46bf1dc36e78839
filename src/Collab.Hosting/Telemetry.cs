using Azure.Identity;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Microsoft.AspNetCore.Builder;
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
/// Collab's and Orleans' traces and metrics through OpenTelemetry: to Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set (App Service gets it from the Bicep), to a Prometheus scrape
/// endpoint and/or an OTLP collector when <c>Collab:Telemetry</c> asks. With none of them nothing is registered and
/// nothing leaves the process. docs/operations.md lists every metric.
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

    private static readonly PathString[] Probes = ["/healthz", "/readyz", MetricsPath];

    /// <summary>Where the Prometheus scrape endpoint answers.</summary>
    public const string MetricsPath = "/metrics";

    public static bool IsEnabled(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration[ConnectionStringSetting]);

    /// <summary>
    /// Registers OpenTelemetry with Collab's and Orleans' meters and activity sources when anything exports them:
    /// Application Insights (the connection string is set), a Prometheus scrape endpoint (<c>Collab:Telemetry:Prometheus</c>)
    /// or an OTLP collector (<c>Collab:Telemetry:OtlpEndpoint</c>). Without any, nothing is registered.
    /// </summary>
    public static void AddCollabTelemetry(this IHostApplicationBuilder builder)
    {
        if (builder.Properties.ContainsKey(typeof(Telemetry))) return;
        var settings = ValidatedOptions.Read<TelemetryOptions>(builder.Configuration, TelemetryOptions.Section, o => o.Validate());
        var azure = IsEnabled(builder.Configuration);
        if (!azure && !settings.Prometheus && settings.OtlpEndpoint is null) return;
        builder.Properties[typeof(Telemetry)] = settings;
        var connectionString = builder.Configuration[ConnectionStringSetting];

        var otel = builder.Services.AddOpenTelemetry();
        if (azure)
        {
            otel.UseAzureMonitor(o =>
            {
                o.ConnectionString = connectionString;
                // The Bicep disables local (key) authentication on Application Insights: ingestion needs an Entra token,
                // here the app's user-assigned identity (DefaultAzureCredential reads its id from AZURE_CLIENT_ID).
                o.Credential = new DefaultAzureCredential();
            });
        }
        // The cloud role name in Application Insights (and service.name elsewhere): Collab.Web or Collab.Silo.
        otel.ConfigureResource(r => r.AddService(builder.Environment.ApplicationName))
            .WithTracing(t =>
            {
                t.AddSource(OrleansActivitySources);
                if (settings.OtlpEndpoint is { } endpoint) t.AddOtlpExporter(o => o.Endpoint = endpoint);
            })
            .WithMetrics(m =>
            {
                m.AddMeter(OrleansMeter, CollabMeters);
                if (settings.Prometheus) m.AddPrometheusExporter();
                if (settings.OtlpEndpoint is { } endpoint) m.AddOtlpExporter(o => o.Endpoint = endpoint);
            });

        // App Service probes /readyz every minute on every instance: requests worth no trace.
        builder.Services.Configure<AspNetCoreTraceInstrumentationOptions>(o =>
            o.Filter = context => !Probes.Contains(context.Request.Path));
    }

    /// <summary>
    /// Serves <c>GET /metrics</c> (Prometheus text format) when <c>Collab:Telemetry:Prometheus</c> is on. With
    /// <c>Collab:Operations:OperatorKey</c> set, a scrape must send it as a bearer token (<c>401</c> otherwise).
    /// </summary>
    public static void UseMetricsEndpoint(IApplicationBuilder app)
    {
        var configuration = app.ApplicationServices.GetRequiredService<IConfiguration>();
        if (!ValidatedOptions.Read<TelemetryOptions>(configuration, TelemetryOptions.Section, o => o.Validate()).Prometheus) return;
        var operations = app.ApplicationServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<OperationsOptions>>();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == MetricsPath && !string.IsNullOrEmpty(operations.Value.OperatorKey)
                && !HealthEndpoints.IsOperator(context.Request, operations.Value))
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                context.Response.Headers.WWWAuthenticate = "Bearer";
                return;
            }
            await next(context);
        });
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == MetricsPath && HttpMethods.IsGet(context.Request.Method));
    }
}
