namespace Collab.Hosting;

/// <summary>Opt-in metric and trace exporters, bound from <c>Collab:Telemetry</c> (Application Insights is set by its connection string).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Collab:Telemetry";

    /// <summary>Serve <c>GET /metrics</c> in Prometheus' text format (needs the operator key when one is set).</summary>
    public bool Prometheus { get; set; }

    /// <summary>Send metrics and traces to this OTLP/gRPC collector (for example <c>http://127.0.0.1:4317</c>).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate() =>
        OtlpEndpoint is { } uri && (!uri.IsAbsoluteUri || uri.Scheme is not ("http" or "https"))
            ? $"{Section}:OtlpEndpoint must be an absolute http(s) URI such as http://127.0.0.1:4317 (was {uri})."
            : null;
}
