using Collab.Grains;
using Collab.Storage;
using Collab.Storage.Sqlite;
using Collab.Web.Endpoints;
using Collab.Web.Fanout;
using Collab.Web.Sessions;
using Microsoft.Extensions.Options;

namespace Collab.Web.Hosting;

/// <summary>Builds the Collab web host: front end plus, in the embedded default, a co-hosted silo and the SQLite store.</summary>
public static class CollabApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        var configuration = builder.Configuration;

        AddValidatedOptions<FrontEndOptions>(builder.Services, FrontEndOptions.Section, o => o.Validate());
        AddValidatedOptions<DocumentGrainOptions>(builder.Services, DocumentGrainOptions.Section, o => o.Validate());
        AddValidatedOptions<SiloOptions>(builder.Services, SiloOptions.Section, o => o.Validate());
        builder.Services.AddOptions<SqliteDocumentStoreOptions>().BindConfiguration(SqliteDocumentStoreOptions.SectionName).ValidateOnStart()
            .PostConfigure(o =>
            {
                // Relative to the content root (the project folder under `dotnet run`), not to wherever the process started.
                if (!string.IsNullOrWhiteSpace(o.DataPath)) o.DataPath = Path.Combine(builder.Environment.ContentRootPath, o.DataPath);
            });
        builder.Services.AddSingleton<IValidateOptions<SqliteDocumentStoreOptions>, SqliteDocumentStoreOptionsValidator>();

        var silo = configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        if (silo.Validate() is { } siloError) throw new OptionsValidationException(SiloOptions.Section, typeof(SiloOptions), [siloError]);

        builder.Services.AddSingleton<SqliteDocumentStore>();
        builder.Services.AddSingleton<IDocumentStore>(sp => sp.GetRequiredService<SqliteDocumentStore>());
        builder.UseOrleans(siloBuilder =>
        {
            siloBuilder.UseLocalhostClustering(silo.SiloPort, silo.GatewayPort, serviceId: silo.ServiceId, clusterId: silo.ClusterId);
        });

        builder.Services.AddSingleton<DocumentFeeds>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DocumentFeeds>());

        var app = builder.Build();
        app.UseWebSockets();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.Map("/ws", WebSocketEndpoint.HandleAsync);
        HttpEndpoints.Map(app);
        // The editor page is one static file for every document; the page reads the id from its URL.
        app.MapFallbackToFile("/d/{doc}", "editor.html");
        return app;
    }

    private static void AddValidatedOptions<T>(IServiceCollection services, string section, Func<T, string?> validate) where T : class
    {
        services.AddOptions<T>()
            .BindConfiguration(section)
            .Validate(o => validate(o) is null, $"{section} is invalid")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<T>>(new DescribedValidation<T>(validate));
    }

    /// <summary>Reports the exact failing key (the plain Validate overload only has a fixed message).</summary>
    private sealed class DescribedValidation<T>(Func<T, string?> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            validate(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
