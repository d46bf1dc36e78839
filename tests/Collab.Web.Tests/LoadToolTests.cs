using System.Globalization;
using System.Text.Json;
using Collab.LoadTest;
using Xunit;
using Xunit.Abstractions;

using Collab.Testing;

namespace Collab.Web.Tests;

/// <summary>
/// The load tool (src/Collab.LoadTest) against a real in-process server: tiny runs of its workloads converge and
/// report figures that add up. No speed is asserted; the figures are printed and reported.
/// </summary>
public sealed class LoadToolTests(ITestOutputHelper output)
{
    /// <summary>The documented rate limits lifted, as docs/benchmarks.md runs the server.</summary>
    private static readonly Dictionary<string, string> Unlimited = new()
    {
        ["Collab:FrontEnd:MessagesPerSecond"] = "100000",
        ["Collab:FrontEnd:MessageBurst"] = "100000",
        ["Collab:FrontEnd:OpBytesPerSecond"] = "1073741824",
        ["Collab:FrontEnd:OpByteBurst"] = "1073741824",
        ["Collab:Documents:OpsPerSecond"] = "100000",
        ["Collab:Documents:OpsBurst"] = "100000",
    };

    [Fact]
    public async Task A_tiny_W1_run_converges_and_every_committed_op_reaches_every_other_client()
    {
        await using var server = await CollabServer.StartAsync(Unlimited);
        var result = await RunAsync(server, "w1", "--clients", "3", "--duration", "2", "--warmup", "0.5");

        Assert.True(result.Converged, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(1, result.ConvergedDocuments);
        Assert.Equal(3, result.Connections);
        Assert.True(result.CommittedOps > 0, "no op was committed in the measured window");
        Assert.Equal(0, result.LatencyMissing);
        AssertSaneLatency(result, expectedSamples: result.CommittedOps);
        Assert.True(result.ServerCpuSeconds > 0, "the server's CPU time did not advance");
        Assert.True(result.ServerCpuUsPerCommittedOp > 0);
        Assert.True(result.ServerRssAfterKb > 0);
        Report.Figure(nameof(LoadToolTests), $"tiny W1 (3 clients, 2 s, in-process): {result.CommittedOps} ops, p99 {result.BroadcastLatencyMs!.P99:0.0} ms");
    }

    [Fact]
    public async Task A_tiny_W3_run_converges_on_every_document_at_the_requested_rate()
    {
        await using var server = await CollabServer.StartAsync(Unlimited);
        var result = await RunAsync(server, "w3", "--documents", "5", "--clients", "2", "--rate", "5", "--duration", "2", "--warmup", "0.5");

        Assert.True(result.Converged, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(5, result.ConvergedDocuments);
        Assert.Equal(10, result.Connections);
        // 10 clients × 5 edits/s × 2 s: at most 100 edits start in the window (one more per client for the phase).
        Assert.InRange(result.Edits, 1, 110);
        // Ops sent in the window: an edit made just before it may be sent inside it (one per client at most).
        Assert.InRange(result.CommittedOps, 1, result.Edits + result.Connections);
        AssertSaneLatency(result, expectedSamples: result.CommittedOps);

        var json = JsonDocument.Parse(result.ToJson()).RootElement;
        Assert.Equal("W3", json.GetProperty("workload").GetString());
        Assert.Equal(result.CommittedOps, json.GetProperty("committedOps").GetInt64());
        Assert.True(json.GetProperty("converged").GetBoolean());
    }

    [Fact]
    public async Task A_tiny_W4_run_holds_its_idle_connections_and_reads_the_server_memory()
    {
        await using var server = await CollabServer.StartAsync(Unlimited);
        var result = await RunAsync(server, "w4", "--connections", "30", "--documents", "3", "--settle", "0.5", "--warmup", "0.2");

        Assert.True(result.Converged, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(3, result.ConvergedDocuments);
        Assert.Equal(30, result.Connections);
        Assert.NotNull(result.ServerRssKbPerConnection);
        Assert.True(result.ServerRssBeforeKb > 0);
    }

    [Fact]
    public async Task A_tiny_W5_run_builds_the_document_and_every_join_gets_its_whole_text()
    {
        await using var server = await CollabServer.StartAsync(Unlimited);
        var result = await RunAsync(server, "w5", "--edits", "200", "--doc-chars", "20000", "--clients", "4", "--joins", "3");

        Assert.True(result.Converged, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(200, result.CommittedOps);
        Assert.Equal(20_000, result.DocumentChars);
        Assert.Equal(3, result.JoinMs!.Count);
        Assert.All(result.JoinMs, ms => Assert.True(ms > 0));
        Assert.Contains(result.JoinMedianMs!.Value, result.JoinMs);
    }

    [Fact]
    public async Task Prefill_writes_the_requested_ops_to_earlier_documents_before_the_run()
    {
        await using var server = await CollabServer.StartAsync(Unlimited);
        var result = await RunAsync(server, "w1", "--clients", "2", "--duration", "0.5", "--warmup", "0", "--prefill", "50", "--prefill-documents", "4", "--doc-prefix", "pf");

        Assert.True(result.Converged, string.Join(Environment.NewLine, result.Problems));
        Assert.Equal(50, result.PrefillOps);
        using var http = server.Http();
        long total = 0;
        for (var d = 0; d < 4; d++)
        {
            var doc = JsonDocument.Parse(await http.GetStringAsync($"/api/docs/pf-pre-{d}")).RootElement;
            total += doc.GetProperty("rev").GetInt64();
        }
        Assert.Equal(50, total);
    }

    private async Task<RunResult> RunAsync(CollabServer server, params string[] args)
    {
        string[] common = ["--url", server.BaseUri.ToString(), "--server-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture)];
        var options = LoadOptions.Parse([.. args, .. common]);
        using var log = new StringWriter();
        var result = await Runner.RunAsync(options, log);
        output.WriteLine(log.ToString());
        output.WriteLine(result.ToTable());
        return result;
    }

    private static void AssertSaneLatency(RunResult result, long expectedSamples)
    {
        var latency = result.BroadcastLatencyMs;
        Assert.NotNull(latency);
        Assert.Equal(expectedSamples, latency.Count);
        Assert.True(latency.P50 > 0);
        Assert.True(latency.P50 <= latency.P95 && latency.P95 <= latency.P99 && latency.P99 <= latency.Max);
    }
}
