using System.Diagnostics;
using System.Globalization;

namespace Collab.LoadTest;

/// <summary>Runs one workload: cold-start wait and prefill if asked, the workload itself, the convergence check.</summary>
internal static class Runner
{
    public static async Task<RunResult> RunAsync(LoadOptions options, TextWriter log, CancellationToken cancellationToken = default)
    {
        var toolCpu = Process.GetCurrentProcess().TotalProcessorTime;
        using var api = new ServerApi(options.Url);
        var result = new RunResult { Workload = options.Workload, Url = options.Url.ToString(), Parameters = Describe(options) };
        if (options.ColdStart)
        {
            result.ReadyMs = (await api.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken)).TotalMilliseconds;
            log.WriteLine($"ready after {result.ReadyMs:0} ms");
        }
        if (options.Prefill > 0) await PrefillAsync(api, options, result, log, cancellationToken);
        switch (options.Workload)
        {
            case Workload.W1 or Workload.W2 or Workload.W3:
                await EditingWorkload.RunAsync(api, options, result, log, cancellationToken);
                break;
            case Workload.W4:
                await IdleWorkload.RunAsync(api, options, result, log, cancellationToken);
                break;
            case Workload.W5:
                await JoinWorkload.RunAsync(api, options, result, log, cancellationToken);
                break;
            case Workload.Soak:
                await SoakWorkload.RunAsync(api, options, result, log, cancellationToken);
                break;
            default:
                result.Converged = true;
                break;
        }
        result.LoadToolCpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - toolCpu).TotalSeconds;
        return result;
    }

    /// <summary>Opens <paramref name="count"/> clients, client <c>i</c> joined to <paramref name="docOf"/>(i), at most <c>ConnectParallelism</c> at once.</summary>
    public static async Task<LoadClient[]> ConnectAsync(
        ServerApi api, LoadOptions options, int count, Func<int, string> docOf, Func<int, EditGenerator> editsOf, CancellationToken cancellationToken)
    {
        var clients = new LoadClient[count];
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = options.ConnectParallelism, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var client = await LoadClient.ConnectAsync(api.WebSocketUri, ClientId(options, $"c{i}"), editsOf(i), ct);
            await client.JoinAsync(docOf(i), ct);
            clients[i] = client;
        });
        return clients;
    }

    /// <summary>A fresh clientId (1–64 of A-Z a-z 0-9 _ -): a reused one would make the server drop seq 1 as a duplicate.</summary>
    public static string ClientId(LoadOptions options, string role)
    {
        var id = $"{options.DocPrefix}-{role}-{Guid.NewGuid():N}";
        return id.Length <= 64 ? id : id[..64];
    }

    public static async Task DisposeAllAsync(IEnumerable<LoadClient> clients) =>
        await Parallel.ForEachAsync(clients, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (c, _) => await c.DisposeAsync());

    /// <summary>
    /// Waits until no client has an op in flight, then checks every document: each of its clients reaches the
    /// server's revision (<c>GET /api/docs/{doc}</c>) and holds exactly the server's text.
    /// </summary>
    public static async Task CheckConvergenceAsync(ServerApi api, IReadOnlyList<LoadClient> clients, LoadOptions options, RunResult result, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(options.ConvergeTimeout.TotalSeconds * Stopwatch.Frequency);
        while (clients.Any(c => !c.IsSettled && !c.IsClosed) && Stopwatch.GetTimestamp() < deadline) await Task.Delay(20, cancellationToken);
        var converged = 0;
        foreach (var group in clients.GroupBy(c => c.Doc!))
        {
            var server = await api.GetDocAsync(group.Key, cancellationToken);
            var ok = true;
            foreach (var client in group)
            {
                var (rev, text) = client.Snapshot();
                while (rev < server.Rev && !client.IsClosed && Stopwatch.GetTimestamp() < deadline)
                {
                    await Task.Delay(20, cancellationToken);
                    (rev, text) = client.Snapshot();
                }
                if (rev == server.Rev && text == server.Text) continue;
                ok = false;
                result.Problems.Add($"{group.Key}: client {client.ClientId} at rev {rev} ({text.Length} chars), server at rev {server.Rev} ({server.Text.Length} chars){(text == server.Text ? "" : ", texts differ")}");
            }
            if (ok) converged++;
        }
        result.ConvergedDocuments = converged;
        foreach (var client in clients)
        {
            result.ErrorCount += client.Errors.Count;
            foreach (var e in client.Errors.Take(3)) result.Problems.Add($"{client.ClientId}: {e}");
        }
        result.Converged = converged == clients.Select(c => c.Doc).Distinct().Count() && result.ErrorCount == 0;
    }

    /// <summary>Writes <c>Prefill</c> ops (typing edits, closed loop) spread over <c>PrefillDocuments</c> earlier documents, 32 documents at a time.</summary>
    private static async Task PrefillAsync(ServerApi api, LoadOptions options, RunResult result, TextWriter log, CancellationToken cancellationToken)
    {
        log.WriteLine($"prefill: {options.Prefill} ops over {options.PrefillDocuments} documents");
        var started = Stopwatch.GetTimestamp();
        var problems = 0;
        await Parallel.ForEachAsync(Enumerable.Range(0, options.PrefillDocuments), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken }, async (d, ct) =>
        {
            var ops = (options.Prefill / options.PrefillDocuments) + (d < options.Prefill % options.PrefillDocuments ? 1 : 0);
            if (ops == 0) return;
            var client = await LoadClient.ConnectAsync(api.WebSocketUri, ClientId(options, $"p{d}"), new EditGenerator(options.Seed * 7919 + d), ct);
            await client.JoinAsync($"{options.DocPrefix}-pre-{d}", ct);
            await client.RunClosedLoopAsync(ops);
            if (client.Errors.Count > 0) Interlocked.Increment(ref problems);
            await client.DisposeAsync();
        });
        result.PrefillOps = options.Prefill;
        result.PrefillSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (problems > 0) result.Problems.Add($"prefill: {problems} documents had errors");
        log.WriteLine($"prefill done in {result.PrefillSeconds:0.0} s");
    }

    private static Dictionary<string, string> Describe(LoadOptions o)
    {
        static string S(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var p = new Dictionary<string, string>();
        switch (o.Workload)
        {
            case Workload.W1 or Workload.W2 or Workload.W3 or Workload.Soak:
                p["documents"] = o.Documents.ToString(CultureInfo.InvariantCulture);
                p["clients"] = o.Clients.ToString(CultureInfo.InvariantCulture);
                p["rate"] = o.Rate == 0 ? "closed-loop" : o.Rate.ToString(CultureInfo.InvariantCulture);
                p["duration"] = S(o.Duration);
                break;
            case Workload.W4:
                p["connections"] = o.Connections.ToString(CultureInfo.InvariantCulture);
                p["documents"] = o.Documents.ToString(CultureInfo.InvariantCulture);
                p["settle"] = S(o.Settle);
                break;
            case Workload.W5:
                p["edits"] = o.Edits.ToString(CultureInfo.InvariantCulture);
                p["docChars"] = o.DocumentChars.ToString(CultureInfo.InvariantCulture);
                p["writers"] = o.Clients.ToString(CultureInfo.InvariantCulture);
                p["joins"] = o.Joins.ToString(CultureInfo.InvariantCulture);
                break;
        }
        if (o.Workload == Workload.Soak)
        {
            p["hostile"] = o.Hostile.ToString(CultureInfo.InvariantCulture);
            p["bigDocChars"] = o.BigDocumentChars.ToString(CultureInfo.InvariantCulture);
        }
        if (o.Workload != Workload.W5) p["warmup"] = S(o.Warmup);
        if (o.Prefill > 0) p["prefill"] = $"{o.Prefill}/{o.PrefillDocuments}";
        if (o.ColdStart) p["coldStart"] = "true";
        return p;
    }
}
