using Collab.Grains;
using Collab.Hosting;
using Collab.Web.Access;
using Microsoft.Extensions.Options;
using Collab.Web.Endpoints;
using Collab.Web.Fanout;
using Collab.Web.Protocol;
using Collab.Web.Sessions;

namespace Collab.Web.Hosting;

/// <summary>
/// Builds the Collab web host: the front end plus, in the embedded default, a co-hosted silo and its document store;
/// in client mode (<c>Collab:Cluster:Mode=Client</c>) an Orleans client of the silos' gateways instead.
/// </summary>
public static class CollabApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        ValidatedOptions.Add<FrontEndOptions>(builder.Services, FrontEndOptions.Section, o => o.Validate());
        ValidatedOptions.Add<AccessOptions>(builder.Services, AccessOptions.Section, o => o.Validate());
        builder.Services.AddSingleton(sp => new AccessPolicy(sp.GetRequiredService<IOptions<AccessOptions>>().Value));
        builder.Services.AddSingleton<TokenSessions>();
        builder.Services.AddSingleton<RevocationWatcher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<RevocationWatcher>());
        var mode = ValidatedOptions.Read<CollabClusterOptions>(builder.Configuration, CollabClusterOptions.Section, o => o.Validate()).Mode;
        if (mode == HostMode.Client)
        {
            // Feeds renew subscriptions within the grains' expiry, so the front end reads the same document options.
            ValidatedOptions.Add<DocumentGrainOptions>(builder.Services, DocumentGrainOptions.Section, o => o.Validate());
            // The silos are other processes that may freeze: bound what sessions and feeds wait for them (docs/operations.md).
            builder.Services.PostConfigure<FrontEndOptions>(o =>
            {
                if (o.SubmitTimeoutMs == 0) o.SubmitTimeoutMs = FrontEndOptions.ClusterSubmitTimeoutMs;
                if (o.FeedCallTimeoutMs == 0) o.FeedCallTimeoutMs = FrontEndOptions.ClusterFeedCallTimeoutMs;
            });
            builder.AddCollabClient();
        }
        else
        {
            builder.AddCollabSilo();
        }

        builder.Services.AddSingleton(sp => new AuthorTags(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<DocumentFeeds>();
        builder.Services.AddSingleton<SseSessions>();
        builder.Services.AddSingleton<ConnectionLimiter>();
        ApiRateLimit.Add(builder.Services);
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DocumentFeeds>());

        var app = builder.Build();
        app.Lifetime.ApplicationStarted.Register(() => LogAccessMode(app.Services));
        SecurityHeaders.Use(app);
        Telemetry.UseMetricsEndpoint(app);
        app.UseRateLimiter();
        app.UseWebSockets();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.Map("/ws", WebSocketEndpoint.HandleAsync);
        SseTransport.Map(app);
        HttpEndpoints.Map(app);
        HealthEndpoints.Map(app);
        // The editor page is one static file for every document; the page reads the id from its URL.
        app.MapFallbackToFile("/d/{doc}", "editor.html");
        return app;
    }

    private static void LogAccessMode(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<AccessOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Collab.Web.Access");
        if (options.Mode == AccessMode.Open)
            logger.LogWarning("Access mode Open: anyone who reaches this server can read and edit every document (set Collab:Access:Mode=Links to require share links)");
        else
            logger.LogInformation("Access mode {Mode}: documents need a credential; new documents may be created by {Creators}", options.Mode, options.CreateDocuments);
    }
}
