using Collab.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>The real Collab web host (Kestrel on a free loopback port, co-hosted silo, SQLite in a temp folder), in process.</summary>
public sealed class CollabServer : IAsyncDisposable
{
    private readonly WebApplication app;

    private CollabServer(WebApplication app, Uri baseUri, string dataPath)
    {
        this.app = app;
        BaseUri = baseUri;
        DataPath = dataPath;
    }

    public Uri BaseUri { get; }

    public Uri WebSocketUri => new($"ws://{BaseUri.Authority}/ws");

    public string DataPath { get; }

    public IServiceProvider Services => app.Services;

    /// <summary>Starts a server; <paramref name="settings"/> are configuration keys such as <c>Collab:FrontEnd:MaxMessageBytes</c>.</summary>
    public static async Task<CollabServer> StartAsync(IDictionary<string, string>? settings = null, string? dataPath = null)
    {
        dataPath ??= Path.Combine(Path.GetTempPath(), "collab-web-tests", Guid.NewGuid().ToString("N"));
        var args = new List<string>
        {
            "--urls", "http://127.0.0.1:0",
            "--contentRoot", Path.Combine(RepoPaths.Root, "src", "Collab.Web"),
            "--environment", "Production",
            "--Collab:Storage:DataPath", dataPath,
            "--Collab:Cluster:SiloPort", FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--Collab:Cluster:ClusterId", "test-" + Guid.NewGuid().ToString("N"),
            "--Logging:LogLevel:Default", "Warning",
            // Test classes share a server and poll it from one address: the API rate limit has its own tests.
            "--Collab:FrontEnd:ApiRequestsPerSecond", "100000",
            "--Collab:FrontEnd:ApiBurst", "100000",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) args.AddRange(["--" + key, value]);
        var app = CollabApp.Build([.. args]);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new CollabServer(app, new Uri(address), dataPath);
    }

    public HttpClient Http() => new() { BaseAddress = BaseUri };

    public Task<TestClient> ConnectAsync(string? clientId = null, string? name = null) =>
        TestClient.ConnectAsync(WebSocketUri, clientId ?? "c" + Guid.NewGuid().ToString("N")[..12], name);

    public static int FreePort() => RepoPaths.FreePort();

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
