using Collab.Contracts;
using Xunit;

namespace Collab.Grains.Tests;

/// <summary>
/// Every failure of a Collab grain reaches its caller as an exception the caller can decode. A store driver's own
/// exception (NpgsqlException, SqliteException, RedisClusteringException…) has no codec on the callers' side — a
/// client-mode front end got <c>CodecNotFoundException</c> instead of a retryable answer. Here the store fails with an
/// exception type the grains' callers know nothing of, under every grain method that touches the store, and the call
/// crosses the in-process cluster's real client/silo boundary (serialized, over the gateway).
/// </summary>
public sealed class PortableExceptionTests : IAsyncLifetime
{
    private DocumentCluster cluster = null!;

    public async Task InitializeAsync() => cluster = await DocumentCluster.StartAsync();

    public async Task DisposeAsync() => await cluster.DisposeAsync();

    /// <summary>What a driver throws: no Orleans codec, not known to any caller.</summary>
    private sealed class DriverException(string message) : Exception(message);

    private void Fail(params string[] methods)
    {
        foreach (var method in methods) cluster.Store.Faults[method] = () => new DriverException($"{method}: connection refused (password=secret)");
    }

    private static async Task AssertUnavailableAsync(Func<Task> call)
    {
        var error = await Assert.ThrowsAsync<DocumentUnavailableException>(call);
        // The driver's detail (and anything secret in it) stays in the silo's log.
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
        Assert.Contains("retry", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_document_that_cannot_be_loaded()
    {
        Fail(nameof(Storage.IDocumentStore.LoadAsync), nameof(Storage.IDocumentStore.ClaimWriterAsync));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IDocumentGrain>("unloadable").Join(null));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IDocumentGrain>("unloadable-2").GetStatus());
    }

    [Fact]
    public async Task Lookups_of_the_store()
    {
        Fail(nameof(Storage.IDocumentStore.ExistsAsync), nameof(Storage.IDocumentStore.MeasureAsync), nameof(Storage.IDocumentStore.MeasureStoreAsync));
        var lookup = cluster.Grains.GetGrain<IDocumentLookupGrain>(0);
        await AssertUnavailableAsync(() => lookup.IsWritten("x"));
        await AssertUnavailableAsync(() => lookup.Measure("x"));
        await AssertUnavailableAsync(() => lookup.MeasureStore());
    }

    [Fact]
    public async Task An_owner_whose_count_cannot_be_read_or_written()
    {
        Fail(nameof(Storage.IDocumentStore.CountOwnedAsync));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IDocumentOwnerGrain>("ada").Create("owned-1", withAccess: false, maxDocuments: 10));

        cluster.Store.Faults.Clear();
        Fail(nameof(Storage.IDocumentStore.AddOwnedAsync));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IDocumentOwnerGrain>("bob").Create("owned-2", withAccess: false, maxDocuments: 10));
    }

    [Fact]
    public async Task Revocations_that_cannot_be_loaded_or_saved()
    {
        Fail(nameof(Storage.IDocumentStore.SaveRevocationAsync));
        var revocations = cluster.Grains.GetGrain<IRevocationsGrain>(0);
        await AssertUnavailableAsync(() => revocations.Revoke(new Revocation(RevocationKind.User, "mallory", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1))));
        // A failure of the activation itself (the list cannot be loaded) is mapped the same way.
        Fail(nameof(Storage.IDocumentStore.LoadRevocationsAsync));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IRevocationsGrain>(1).Get(0));
    }

    [Fact]
    public async Task Access_records_that_cannot_be_read_or_written()
    {
        Fail(nameof(Storage.IDocumentStore.SaveAccessAsync));
        await AssertUnavailableAsync(() => cluster.Grains.GetGrain<IDocumentGrain>("access-1").CreateAccess(claimExisting: false));
    }

    [Fact]
    public async Task Exceptions_the_callers_can_decode_pass_unchanged()
    {
        var revocations = cluster.Grains.GetGrain<IRevocationsGrain>(0);
        await Assert.ThrowsAsync<ArgumentException>(() => revocations.Revoke(new Revocation(RevocationKind.User, "", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1))));
    }
}
