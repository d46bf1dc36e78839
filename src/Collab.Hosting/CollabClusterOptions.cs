using System.Net;

namespace Collab.Hosting;

/// <summary>How this process joins the Orleans cluster, bound from <c>Collab:Cluster</c>.</summary>
public sealed class CollabClusterOptions
{
    public const string Section = "Collab:Cluster";

    /// <summary>Front ends only: <c>Embedded</c> co-hosts a silo (the default), <c>Client</c> connects to silo gateways.</summary>
    public HostMode Mode { get; set; } = HostMode.Embedded;

    /// <summary>Where silos find each other and clients find gateways.</summary>
    public Clustering Clustering { get; set; } = Clustering.Localhost;

    public string ClusterId { get; set; } = "collab";

    public string ServiceId { get; set; } = "collab";

    /// <summary>Silo-to-silo port. On App Service the first of <c>WEBSITE_PRIVATE_PORTS</c> wins.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Gateway port for client-mode front ends; 0 runs no gateway. On App Service the second private port wins.</summary>
    public int GatewayPort { get; set; }

    /// <summary>The address other silos and clients reach this silo at (default: 127.0.0.1 for Localhost clustering,
    /// <c>WEBSITE_PRIVATE_IP</c> on App Service, otherwise the first non-loopback IPv4 address).</summary>
    public string? AdvertisedAddress { get; set; }

    /// <summary>Listen on every interface instead of only <see cref="AdvertisedAddress"/> (containers, App Service).</summary>
    public bool ListenOnAnyAddress { get; set; }

    /// <summary>Localhost clustering, client mode: the gateway ports of the local silos.</summary>
    public int[] LocalhostGatewayPorts { get; set; } = [30000];

    /// <summary>Redis clustering: a StackExchange.Redis connection string, e.g. <c>127.0.0.1:6379</c>.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary>Azure Table clustering with a managed identity: <c>https://account.table.core.windows.net/</c>.</summary>
    public string? AzureTableServiceUri { get; set; }

    /// <summary>Azure Table clustering with a connection string (Azurite, or where identities are unavailable).</summary>
    public string? AzureTableConnectionString { get; set; }

    /// <summary>
    /// How long a silo waits for a probe answer (also the longest Orleans' adaptive probing may stretch it to); with
    /// <see cref="MissedProbesLimit"/> it bounds how long a dead or frozen silo keeps its documents: about
    /// ProbeTimeout × MissedProbesLimit + 1 s (docs/operations.md, "Failure detection").
    /// </summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Missed probes in a row before a silo is suspected dead (one suspicion evicts it in a cluster of two).</summary>
    public int MissedProbesLimit { get; set; } = 2;

    /// <summary>How often a client-mode front end reads the gateway list from membership (a dead silo's gateway is dropped then).</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a grain call may take before it fails (and the front end tells the client to retry). Orleans' own default is 30 s.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(ClusterId)) return $"{Section}:ClusterId must not be empty.";
        if (string.IsNullOrWhiteSpace(ServiceId)) return $"{Section}:ServiceId must not be empty.";
        if (SiloPort is < 1 or > 65535) return $"{Section}:SiloPort must be a TCP port (was {SiloPort}).";
        if (GatewayPort is < 0 or > 65535) return $"{Section}:GatewayPort must be a TCP port or 0 (was {GatewayPort}).";
        if (AdvertisedAddress is not null && !IPAddress.TryParse(AdvertisedAddress, out _))
            return $"{Section}:AdvertisedAddress must be an IP address (was '{AdvertisedAddress}').";
        if (Clustering == Clustering.Redis && string.IsNullOrWhiteSpace(RedisConnectionString))
            return $"{Section}:RedisConnectionString is required when {Section}:Clustering is Redis.";
        if (Clustering == Clustering.AzureTable && string.IsNullOrWhiteSpace(AzureTableServiceUri) && string.IsNullOrWhiteSpace(AzureTableConnectionString))
            return $"{Section}:AzureTableServiceUri (managed identity) or {Section}:AzureTableConnectionString is required when {Section}:Clustering is AzureTable.";
        if (AzureTableServiceUri is not null && !Uri.TryCreate(AzureTableServiceUri, UriKind.Absolute, out _))
            return $"{Section}:AzureTableServiceUri must be an absolute URI (was '{AzureTableServiceUri}').";
        if (Mode == HostMode.Client && Clustering == Clustering.Localhost && LocalhostGatewayPorts.Length == 0)
            return $"{Section}:LocalhostGatewayPorts must list at least one gateway port in client mode with Localhost clustering.";
        if (ProbeTimeout < TimeSpan.FromMilliseconds(200)) return $"{Section}:ProbeTimeout must be at least 00:00:00.2 (was {ProbeTimeout}).";
        if (ResponseTimeout < TimeSpan.FromSeconds(1)) return $"{Section}:ResponseTimeout must be at least 00:00:01 (was {ResponseTimeout}).";
        if (GatewayListRefreshPeriod < TimeSpan.FromMilliseconds(100)) return $"{Section}:GatewayListRefreshPeriod must be at least 00:00:00.1 (was {GatewayListRefreshPeriod}).";
        if (MissedProbesLimit < 1) return $"{Section}:MissedProbesLimit must be at least 1 (was {MissedProbesLimit}).";
        return null;
    }
}

/// <summary>Whether a front end co-hosts a silo or is an Orleans client.</summary>
public enum HostMode
{
    Embedded,
    Client,
}

/// <summary>The membership provider.</summary>
public enum Clustering
{
    /// <summary>One machine, no external service (the embedded default).</summary>
    Localhost,
    /// <summary>Self-hosted clusters: membership in Redis.</summary>
    Redis,
    /// <summary>Azure: membership in Azure Table Storage.</summary>
    AzureTable,
}
