using BenchmarkDotNet.Attributes;
using Collab.Storage;
using Collab.Storage.Sqlite;

namespace Collab.Benchmarks;

/// <summary>
/// The SQLite store's fenced append of one op, durable (WAL, synchronous=FULL: an fsync per transaction): one append
/// alone, and 100 appends to 100 documents at once, which the single writer groups into one transaction.
/// </summary>
public class SqliteAppendBenchmarks
{
    private const string Op = """[812,"abc",188]""";

    private readonly long[] revs = new long[100];
    private string folder = "";
    private SqliteDocumentStore store = null!;

    [GlobalSetup]
    public void Setup()
    {
        folder = Path.Combine(Path.GetTempPath(), "collab-bench-" + Guid.NewGuid().ToString("N"));
        store = new SqliteDocumentStore(new SqliteDocumentStoreOptions { DataPath = folder });
    }

    [GlobalCleanup]
    public async Task Cleanup()
    {
        await store.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    [Benchmark]
    public Task AppendOne() => Append(0);

    [Benchmark(OperationsPerInvoke = 100)]
    public Task AppendHundredConcurrent()
    {
        var appends = new Task[100];
        for (var d = 0; d < appends.Length; d++) appends[d] = Append(d);
        return Task.WhenAll(appends);
    }

    private Task Append(int doc)
    {
        var rev = ++revs[doc];
        return store.AppendAsync("doc" + doc, [new StoredOp(rev, "client", rev, Op)]);
    }
}
