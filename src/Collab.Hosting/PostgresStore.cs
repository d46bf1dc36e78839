using Azure.Core;
using Azure.Identity;
using Collab.Storage;
using Collab.Storage.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collab.Hosting;

/// <summary>
/// Registers the PostgreSQL document store. With <c>Collab:Storage:PostgresAuthentication=AzureIdentity</c> the
/// connection string carries no password: the process signs in with Microsoft Entra tokens of its managed identity.
/// </summary>
internal static class PostgresStore
{
    private static readonly TokenRequestContext EntraScope = new(["https://ossrdbms-aad.database.windows.net/.default"]);

    public static void Add(IServiceCollection services, PostgresAuthentication authentication)
    {
        var azureIdentity = authentication == PostgresAuthentication.AzureIdentity;

        ValidatedOptions.Add<PostgresDocumentStoreOptions>(services, PostgresDocumentStoreOptions.SectionName, o => o.Validate());
        services.AddSingleton(sp => new PostgresDocumentStore(
            sp.GetRequiredService<IOptions<PostgresDocumentStoreOptions>>().Value,
            sp.GetRequiredService<ILogger<PostgresDocumentStore>>(),
            azureIdentity ? UseEntraTokens : null));
        services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<PostgresDocumentStore>());
        services.AddHostedService<Migrations>();
    }

    /// <summary>Tokens last about an hour; fetching a fresh one every few minutes keeps new connections signing in.</summary>
    private static void UseEntraTokens(Npgsql.NpgsqlDataSourceBuilder builder)
    {
        var credential = new DefaultAzureCredential();
        builder.UsePeriodicPasswordProvider(
            async (_, cancellationToken) => (await credential.GetTokenAsync(EntraScope, cancellationToken)).Token,
            successRefreshInterval: TimeSpan.FromMinutes(5),
            failureRefreshInterval: TimeSpan.FromSeconds(10));
    }

    /// <summary>Applies the store's migrations at start, so a host with an unreachable or newer database fails fast.</summary>
    private sealed class Migrations(PostgresDocumentStore store) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
