using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace Collab.Grains;

/// <summary>
/// Gives <see cref="DocumentGrain"/> its own collection age, <c>Collab:Documents:IdleCollectionAfter</c>, instead of
/// Orleans' default for every grain (two hours). Orleans checks for idle activations every
/// <see cref="GrainCollectionOptions.CollectionQuantum"/> (one minute by default), so an idle document is deactivated
/// between the age and the age plus one quantum after its last call.
/// </summary>
public sealed class DocumentGrainCollection(IOptions<DocumentGrainOptions> documents) : IConfigureOptions<GrainCollectionOptions>
{
    public void Configure(GrainCollectionOptions options) =>
        options.ClassSpecificCollectionAge[typeof(DocumentGrain).FullName!] = documents.Value.IdleCollectionAfter;

    /// <summary>Registers the collection age with a silo's services.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.AddSingleton<IConfigureOptions<GrainCollectionOptions>, DocumentGrainCollection>();
}
