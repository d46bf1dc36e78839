using Collab.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Xunit;

namespace Collab.Cluster.Tests;

/// <summary>The Application Insights exporter is wired only where App Service sets its connection string.</summary>
public sealed class TelemetryTests
{
    // The shape App Service receives from the Bicep, with endpoints on a closed loopback port: nothing leaves the machine.
    private const string ConnectionString =
        "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/";

    [Fact]
    public void With_the_connection_string_set_the_host_registers_tracer_and_meter_providers()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration[Telemetry.ConnectionStringSetting] = ConnectionString;
        builder.AddCollabTelemetry();

        Assert.Contains(builder.Services, d => d.ServiceType == typeof(TracerProvider));
        Assert.Contains(builder.Services, d => d.ServiceType == typeof(MeterProvider));
        using var app = builder.Build();
        Assert.NotNull(app.Services.GetService<TracerProvider>());
        Assert.NotNull(app.Services.GetService<MeterProvider>());
    }

    [Fact]
    public void Without_the_connection_string_no_OpenTelemetry_is_registered()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration[Telemetry.ConnectionStringSetting] = null;
        builder.AddCollabTelemetry();

        Assert.DoesNotContain(builder.Services, d => d.ServiceType == typeof(TracerProvider) || d.ServiceType == typeof(MeterProvider));
        using var app = builder.Build();
        Assert.Null(app.Services.GetService<TracerProvider>());
    }
}
