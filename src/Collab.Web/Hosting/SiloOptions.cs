namespace Collab.Web.Hosting;

/// <summary>The co-hosted (embedded) silo, bound from <c>Collab:Silo</c>.</summary>
public sealed class SiloOptions
{
    public const string Section = "Collab:Silo";

    /// <summary>Silo-to-silo port on localhost.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Gateway port for external Orleans clients; 0 runs no gateway (the embedded front end needs none).</summary>
    public int GatewayPort { get; set; }

    public string ClusterId { get; set; } = "collab";

    public string ServiceId { get; set; } = "collab";

    public string? Validate()
    {
        if (SiloPort is < 1 or > 65535) return $"{Section}:SiloPort must be a TCP port (was {SiloPort}).";
        if (GatewayPort is < 0 or > 65535) return $"{Section}:GatewayPort must be a TCP port or 0 (was {GatewayPort}).";
        if (string.IsNullOrWhiteSpace(ClusterId)) return $"{Section}:ClusterId must not be empty.";
        if (string.IsNullOrWhiteSpace(ServiceId)) return $"{Section}:ServiceId must not be empty.";
        return null;
    }
}
