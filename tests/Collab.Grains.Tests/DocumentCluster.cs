using Collab.Grains.Compaction;
using Collab.Storage;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace Collab.Grains.Tests;

/// <summary>An in-process Orleans cluster whose document grains write to a real SQLite file.</summary>
public sealed class DocumentCluster : IAsyncDisposable
{
    private readonly InProcessTestCluster cluster;

    private DocumentCluster(InProcessTestCluster cluster, InstrumentedStore store)
    {
        this.cluster = cluster;
        Store = store;
    }

    public InstrumentedStore Store { get; }

    public IGrainFactory Grains => cluster.Client;

    public IClusterClient Client => cluster.Client;

    /// <param name="collectionQuantum">How often Orleans looks for idle activations (its default is one minute).</param>
    /// <param name="compaction">Compaction settings of the grains (their defaults when null).</param>
    public static async Task<DocumentCluster> StartAsync(string? dataPath = null, Action<DocumentGrainOptions>? configure = null, TimeSpan? collectionQuantum = null,
        Action<CompactionOptions>? compaction = null)
    {
        var store = new InstrumentedStore(dataPath ?? NewDataPath());
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.ConfigureFileLogging = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IDocumentStore>(store);
            silo.Services.Configure<DocumentGrainOptions>(o => configure?.Invoke(o));
            silo.Services.Configure<CompactionOptions>(o => compaction?.Invoke(o));
            DocumentGrainCollection.AddTo(silo.Services);
            silo.AddIncomingGrainCallFilter<PortableExceptionFilter>();
            if (collectionQuantum is { } quantum) silo.Services.Configure<GrainCollectionOptions>(o => o.CollectionQuantum = quantum);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return new DocumentCluster(cluster, store);
    }

    public static string NewDataPath() => Path.Combine(Path.GetTempPath(), "collab-grain-tests", Guid.NewGuid().ToString("N"));

    public async ValueTask DisposeAsync()
    {
        await cluster.DisposeAsync();
        await Store.DisposeAsync();
    }
}
