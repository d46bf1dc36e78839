using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Collab.Web.Tests;

/// <summary>Collab's own metrics, read the way an operator's Prometheus would: from <c>GET /metrics</c>.</summary>
public sealed class MetricsTests(ITestOutputHelper output)
{
    private const string OperatorKey = "metrics-operator-key-0123456789";

    [Fact]
    public async Task The_scrape_endpoint_shows_sessions_commits_frames_errors_fanout_and_the_store()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:Telemetry:Prometheus"] = "true" });
        await using var writer = await server.ConnectAsync("metrics-writer");
        await using var reader = await server.ConnectAsync("metrics-reader");
        await writer.JoinAsync("measured");
        await reader.JoinAsync("measured");
        for (var seq = 1; seq <= 5; seq++)
        {
            await writer.SendAsync(new { type = "op", doc = "measured", rev = seq - 1, seq, op = seq == 1 ? new object[] { "x" } : new object[] { seq - 1, "x" } });
            await writer.ExpectAsync("ack");
            await reader.WaitForAsync("op");
        }
        await writer.SendRawAsync("{not json");
        await writer.ExpectAsync("error");
        using var http = server.Http();

        var text = await http.GetStringAsync("/metrics");

        output.WriteLine(string.Join('\n', text.Split('\n').Where(l => l.StartsWith("collab_", StringComparison.Ordinal))));
        Assert.True(Value(text, "collab_ops_committed_total") >= 5);
        Assert.True(Value(text, "collab_sessions") >= 2);
        Assert.True(Value(text, "collab_frames_sent_total") >= 10);
        Assert.True(Value(text, "collab_frames_received_total") >= 8);
        Assert.True(Value(text, "collab_frames_sent_size_bytes_total") > 0);
        Assert.True(Value(text, "collab_errors_total", "collab_error_code=\"bad_json\"") >= 1);
        Assert.True(Value(text, "collab_commit_duration_seconds_count") >= 5);
        Assert.True(Value(text, "collab_commit_batch_ops_count") >= 1);
        Assert.True(Value(text, "collab_transform_depth_count") >= 5);
        Assert.True(Value(text, "collab_fanout_duration_seconds_count") >= 5);
        Assert.True(Value(text, "collab_documents_active") >= 1);
        Assert.True(Value(text, "collab_store_transactions_total") >= 1);
        Assert.True(Value(text, "collab_store_size_bytes") > 0, "the compactor measures the store at start");
    }

    [Fact]
    public async Task With_an_operator_key_a_scrape_must_send_it_and_without_the_setting_there_is_no_endpoint()
    {
        await using (var keyed = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:Telemetry:Prometheus"] = "true",
            ["Collab:Operations:OperatorKey"] = OperatorKey,
        }))
        {
            using var http = keyed.Http();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/metrics")).StatusCode);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
            request.Headers.Authorization = new("Bearer", OperatorKey);
            var scrape = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("collab_sessions", await scrape.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        await using var plain = await CollabServer.StartAsync();
        using var client = plain.Http();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/metrics")).StatusCode);
    }

    /// <summary>The sum of a metric's samples (every label set, or those whose labels contain <paramref name="label"/>); fails when it is absent.</summary>
    private static double Value(string exposition, string name, string? label = null)
    {
        var pattern = new Regex($"^{Regex.Escape(name)}(\\{{(?<labels>[^}}]*)\\}})? (?<value>\\S+)", RegexOptions.Multiline);
        var samples = pattern.Matches(exposition).Where(m => label is null || m.Groups["labels"].Value.Contains(label, StringComparison.Ordinal)).ToList();
        Assert.True(samples.Count > 0, $"{name}{(label is null ? "" : "{" + label + "}")} is not in the scrape");
        return samples.Sum(m => double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture));
    }
}
