using System.Diagnostics;
using Collab.Contracts;
using Collab.Ot;
using Xunit;

namespace Collab.Grains.Tests;

/// <summary>Idle documents are deactivated after <c>Collab:Documents:IdleCollectionAfter</c>, and come back with their data.</summary>
public sealed class IdleCollectionTests
{
    private static readonly TimeSpan IdleAfter = TimeSpan.FromSeconds(4);
    private static readonly TimeSpan Quantum = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task A_document_nobody_calls_is_deactivated_after_the_configured_age_and_keeps_its_text()
    {
        await using var cluster = await DocumentCluster.StartAsync(configure: o =>
        {
            o.SubscriptionExpiry = TimeSpan.FromSeconds(5);
            o.IdleCollectionAfter = IdleAfter;
            Assert.Null(o.Validate());
        }, collectionQuantum: Quantum);
        var doc = cluster.Grains.GetGrain<IDocumentGrain>("idle");
        await doc.Submit(new SubmitRequest("a", 1, 0, new TextOperationBuilder().Insert("kept").Build()));
        var first = await doc.GetStatus();
        var idleSince = Stopwatch.StartNew();
        Assert.Equal(1, await DocumentActivationsAsync(cluster));

        // Orleans' default age is two hours: without the setting this waits out its deadline and fails.
        var deadline = IdleAfter + 4 * Quantum + TimeSpan.FromSeconds(10);
        while (await DocumentActivationsAsync(cluster) > 0)
        {
            Assert.True(idleSince.Elapsed < deadline, $"the idle document was still active after {idleSince.Elapsed}");
            await Task.Delay(100);
        }
        // Collected no earlier than the age, give or take the collector's quantum (it files activations in quantum-wide
        // buckets: one was measured collected 3.55 s into a 4 s age with a 0.5 s quantum).
        Assert.True(idleSince.Elapsed >= IdleAfter - Quantum - TimeSpan.FromMilliseconds(200), $"collected after only {idleSince.Elapsed}");

        var state = await doc.GetState();
        Assert.Equal((1L, "kept"), (state.Rev, state.Text));
        Assert.True((await doc.GetStatus()).ActivatedAt > first.ActivatedAt, "expected a new activation");
    }

    [Fact]
    public void An_age_shorter_than_two_renewals_is_refused_naming_the_key()
    {
        var options = new DocumentGrainOptions { IdleCollectionAfter = TimeSpan.FromSeconds(15) };
        Assert.StartsWith("Collab:Documents:IdleCollectionAfter", options.Validate(), StringComparison.Ordinal);
        Assert.Null(new DocumentGrainOptions { IdleCollectionAfter = TimeSpan.FromSeconds(20) }.Validate());
    }

    private static async Task<int> DocumentActivationsAsync(DocumentCluster cluster)
    {
        var statistics = await cluster.Grains.GetGrain<IManagementGrain>(0).GetSimpleGrainStatistics();
        return statistics.Where(s => s.GrainType.StartsWith(typeof(DocumentGrain).FullName + ",", StringComparison.Ordinal)).Sum(s => s.ActivationCount);
    }
}
