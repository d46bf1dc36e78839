using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Azure.Data.Tables;
using Azure.Identity;
using Collab.Grains;
using Collab.Grains.Compaction;
using Collab.Storage;
using Collab.Storage.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Collab.Hosting;

/// <summary>Sets up a process as a Collab silo or as an Orleans client of one, from <c>Collab:Cluster</c> and <c>Collab:Storage</c>.</summary>
public static class CollabCluster
{
    /// <summary>Hosts the document grains in this process: membership, endpoints, the document store, grain options.</summary>
    public static CollabClusterOptions AddCollabSilo(this IHostApplicationBuilder builder, int defaultGatewayPort = 0)
    {
        var cluster = ReadClusterOptions(builder.Configuration, defaultGatewayPort);
        ValidatedOptions.Add<DocumentGrainOptions>(builder.Services, DocumentGrainOptions.Section, o => o.Validate());
        DocumentGrainCollection.AddTo(builder.Services);
        ValidatedOptions.Add<CompactionOptions>(builder.Services, CompactionOptions.Section, o => o.Validate());
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<OpLogCompactor>();
        // A membership store that loses this silo's row (Redis restarted empty) cannot be healed from inside: exit for a restart.
        if (cluster.Clustering != Clustering.Localhost) builder.Services.AddHostedService<MembershipWatchdog>();
        builder.AddDocumentStore();
        builder.AddCollabTelemetry();
        HealthEndpoints.AddOperations(builder.Services);

        builder.UseOrleans(silo =>
        {
            if (Telemetry.IsEnabled(builder.Configuration)) silo.AddActivityPropagation();
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            var (address, siloPort, gatewayPort) = Endpoints(cluster);
            switch (cluster.Clustering)
            {
                case Clustering.Localhost:
                    silo.UseLocalhostClustering(siloPort, gatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                    break;
                case Clustering.Redis:
                    silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: cluster.ListenOnAnyAddress);
                    silo.UseRedisClustering(cluster.RedisConnectionString!);
                    break;
                case Clustering.AzureTable:
                    silo.ConfigureEndpoints(address, siloPort, gatewayPort, listenOnAnyHostAddress: cluster.ListenOnAnyAddress);
                    silo.UseAzureStorageClustering(o => o.TableServiceClient = TableClient(cluster));
                    break;
            }
            silo.Configure<ClusterMembershipOptions>(o =>
            {
                o.ProbeTimeout = cluster.ProbeTimeout;
                // Orleans stretches a slow silo's probe timeout up to 4 × ProbeTimeout by default, and suppresses votes
                // against a silo heard from within MaxProbeTimeout × NumMissedProbesLimit: pinned, a frozen silo is
                // evicted after ProbeTimeout × MissedProbesLimit instead of 24 s (or never, for a 20 s freeze).
                o.MaxProbeTimeout = cluster.ProbeTimeout;
                o.NumMissedProbesLimit = cluster.MissedProbesLimit;
            });
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            // Driver and clustering exceptions have no codec on client-mode front ends: map them to one they can decode.
            silo.AddIncomingGrainCallFilter<PortableExceptionFilter>();
        });
        return cluster;
    }

    /// <summary>Makes this process an Orleans client of the silos' gateways (a client-mode front end).</summary>
    public static CollabClusterOptions AddCollabClient(this IHostApplicationBuilder builder)
    {
        var cluster = ReadClusterOptions(builder.Configuration, defaultGatewayPort: 0);
        builder.AddCollabTelemetry();
        HealthEndpoints.AddOperations(builder.Services);
        builder.UseOrleansClient(client =>
        {
            if (Telemetry.IsEnabled(builder.Configuration)) client.AddActivityPropagation();
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = cluster.ServiceId;
            });
            switch (cluster.Clustering)
            {
                case Clustering.Localhost:
                    client.UseStaticClustering([.. cluster.LocalhostGatewayPorts.Select(p => new IPEndPoint(IPAddress.Loopback, p))]);
                    break;
                case Clustering.Redis:
                    client.UseRedisClustering(cluster.RedisConnectionString!);
                    break;
                case Clustering.AzureTable:
                    client.UseAzureStorageClustering(o => o.TableServiceClient = TableClient(cluster));
                    break;
            }
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = cluster.GatewayListRefreshPeriod);
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            // A front end may start before the silos: keep trying instead of failing the host.
            client.UseConnectionRetryFilter(async (_, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });
        return cluster;
    }

    /// <summary>Registers the configured <see cref="IDocumentStore"/> (SQLite by default).</summary>
    public static void AddDocumentStore(this IHostApplicationBuilder builder)
    {
        var provider = ValidatedOptions.Read<StorageProviderOptions>(builder.Configuration, StorageProviderOptions.Section, o => o.Validate());
        switch (provider.Provider)
        {
            case StorageProvider.Sqlite:
                var contentRoot = builder.Environment.ContentRootPath;
                ValidatedOptions.Add<SqliteDocumentStoreOptions>(builder.Services, SqliteDocumentStoreOptions.SectionName, o => o.Validate())
                    .PostConfigure(o =>
                    {
                        // Relative to the content root (the project folder under `dotnet run`), not to wherever the process started.
                        if (!string.IsNullOrWhiteSpace(o.DataPath)) o.DataPath = Path.Combine(contentRoot, o.DataPath);
                    });
                builder.Services.AddSingleton<SqliteDocumentStore>();
                builder.Services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<SqliteDocumentStore>());
                break;
            case StorageProvider.Postgres:
                PostgresStore.Add(builder.Services, provider.PostgresAuthentication);
                break;
        }
    }

    private static CollabClusterOptions ReadClusterOptions(IConfiguration configuration, int defaultGatewayPort)
    {
        var gatewayPortSet = configuration.GetSection(CollabClusterOptions.Section)["GatewayPort"] is not null;
        return ValidatedOptions.Read<CollabClusterOptions>(configuration, CollabClusterOptions.Section, o => o.Validate(), o =>
        {
            if (!gatewayPortSet) o.GatewayPort = defaultGatewayPort;
            ApplyAppServicePrivatePorts(o);
        });
    }

    /// <summary>
    /// On App Service with regional VNet integration, instances reach each other only on the private ports App Service
    /// assigns (<c>vnetPrivatePortsCount</c>): the first carries silo traffic, the second the gateway.
    /// </summary>
    private static void ApplyAppServicePrivatePorts(CollabClusterOptions options)
    {
        var ip = Environment.GetEnvironmentVariable("WEBSITE_PRIVATE_IP");
        var ports = Environment.GetEnvironmentVariable("WEBSITE_PRIVATE_PORTS");
        if (string.IsNullOrEmpty(ip) || string.IsNullOrEmpty(ports) || options.Clustering == Clustering.Localhost) return;
        var parsed = ports.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        options.AdvertisedAddress = ip;
        options.ListenOnAnyAddress = true;
        if (parsed.Length > 0) options.SiloPort = parsed[0];
        if (parsed.Length > 1) options.GatewayPort = parsed[1];
    }

    private static (IPAddress Address, int SiloPort, int GatewayPort) Endpoints(CollabClusterOptions cluster)
    {
        var address = cluster.AdvertisedAddress is { } configured ? IPAddress.Parse(configured)
            : cluster.Clustering == Clustering.Localhost ? IPAddress.Loopback
            : FirstNonLoopbackAddress();
        return (address, cluster.SiloPort, cluster.GatewayPort);
    }

    private static IPAddress FirstNonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? IPAddress.Loopback;

    private static TableServiceClient TableClient(CollabClusterOptions cluster) =>
        cluster.AzureTableConnectionString is { Length: > 0 } connectionString
            ? new TableServiceClient(connectionString)
            : new TableServiceClient(new Uri(cluster.AzureTableServiceUri!), new DefaultAzureCredential());
}
