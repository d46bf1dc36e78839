using System.Diagnostics;

namespace Collab.LoadTest;

/// <summary>
/// Soak: <c>Clients</c> honest editors on each of <c>Documents</c> documents type at <c>Rate</c> edits/s while the
/// hostile clients of <see cref="HostileLoad"/> run for <c>Duration</c> against the same server; its RSS, open file
/// descriptors and threads are sampled every second throughout. Afterwards the hostile sockets are gone, the server's
/// descriptors must come back to where they started, and every honest editor must hold the server's text.
/// </summary>
internal static class SoakWorkload
{
    /// <summary>Descriptors the server may hold beyond the start once the hostile clients are gone (pooled store connections, a socket still closing).</summary>
    public const int FdMargin = 8;

    /// <summary>How long the drain waits for the descriptors to come back before it takes the end sample anyway.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(60);

    public static async Task RunAsync(ServerApi api, LoadOptions options, RunResult result, TextWriter log, CancellationToken cancellationToken)
    {
        var pid = options.ServerPid ?? throw new InvalidOperationException("soak needs the server's pid");
        if (!Directory.Exists($"/proc/{pid}"))
        {
            result.Problems.Add($"no process {pid} to sample (/proc/{pid} does not exist): give the server's own pid");
            return;
        }
        var soak = new SoakResult { BigDocumentChars = options.BigDocumentChars };
        result.Soak = soak;
        var outcomes = new Outcomes();
        LoadClient[] honest = [];
        var sampler = new ResourceSampler(pid, () => honest.Sum(c => (long)c.OpsAcked), () => outcomes.Refusals);
        using var sampling = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var sampleLoop = sampler.RunAsync(sampling.Token);
        SoakSample? start = null, end = null;
        try
        {
            soak.MaxMessageBytes = await MaxMessageBytesAsync(api, options, cancellationToken);
            var bigDoc = $"{options.DocPrefix}-big";
            await BuildAsync(api, options, bigDoc, soak.MaxMessageBytes, log, cancellationToken);

            var total = options.Documents * options.Clients;
            log.WriteLine($"soak: {total} honest editors on {options.Documents} documents, {options.Rate} edits/s each");
            honest = await Runner.ConnectAsync(api, options, total, i => $"{options.DocPrefix}-d{i / options.Clients}", i => new EditGenerator(options.Seed * 10_007 + i), cancellationToken);
            result.Connections = total;
            soak.HonestClients = total;
            using var typing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var typists = honest.Select((c, i) => EditingWorkload.RateLoopAsync(c, options.Rate, new Random(options.Seed + i), typing.Token)).ToArray();
            if (options.Warmup > TimeSpan.Zero) await Task.Delay(options.Warmup, cancellationToken);

            start = sampler.Take();
            soak.LoadFrom = start.T;
            var before = ServerProbe.Sample(pid);
            var machineBefore = MachineProbe.Sample();
            var from = Stopwatch.GetTimestamp();
            var editsBefore = honest.Sum(c => (long)c.EditsMade);
            using var hostileStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            using var hostile = new HostileLoad(api, options, bigDoc, soak.MaxMessageBytes, outcomes);
            var loops = hostile.Start(hostileStop.Token);
            soak.HostileLoops = loops.Length;
            log.WriteLine($"soak: {loops.Length} hostile loops for {options.Duration.TotalSeconds:0} s (RSS {start.RssKb / 1024} MiB, {start.Fds} fds at the start)");
            await ReportProgressAsync(sampler, outcomes, options.Duration, log, cancellationToken);

            var after = ServerProbe.Sample(pid);
            var machineAfter = MachineProbe.Sample();
            var to = Stopwatch.GetTimestamp();
            result.Edits = honest.Sum(c => (long)c.EditsMade) - editsBefore;
            await hostileStop.CancelAsync();
            await typing.CancelAsync();
            foreach (var c in honest) c.Stop();
            await Task.WhenAll(typists);
            await Task.WhenAll(loops).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
            hostile.Dispose();
            soak.LoadTo = sampler.Take().T;

            // The hostile sockets are gone from this side; the server's descriptors must follow (honest editors stay connected, as at the start).
            var drain = Stopwatch.GetTimestamp();
            while (true)
            {
                end = sampler.Take();
                if (end.Fds <= start.Fds + FdMargin || Stopwatch.GetElapsedTime(drain) > DrainTimeout) break;
                await Task.Delay(250, cancellationToken);
            }
            soak.DrainSeconds = Stopwatch.GetElapsedTime(drain).TotalSeconds;
            log.WriteLine($"soak: drained in {soak.DrainSeconds:0.0} s: {end.Fds} fds (start {start.Fds}), RSS {end.RssKb / 1024} MiB");

            result.MeasuredSeconds = Stopwatch.GetElapsedTime(from, to).TotalSeconds;
            result.Resends = honest.Sum(c => (long)c.Resends);
            await Runner.CheckConvergenceAsync(api, honest, options, result, cancellationToken);
            result.CommittedOps = honest.Sum(c => (long)c.Sent.Count(s => s.SentAt >= from && s.SentAt < to));
            result.CommittedOpsPerSecond = result.CommittedOps / result.MeasuredSeconds;
            var latencies = new List<double>();
            foreach (var doc in honest.GroupBy(c => c.Doc))
            {
                var (samples, missing) = Latency.Broadcast([.. doc], from, to);
                latencies.AddRange(samples);
                result.LatencyMissing += missing;
            }
            result.BroadcastLatencyMs = LatencyStats.Of(latencies);
            result.SetServer(before, after);
            result.SetMachine(machineBefore, machineAfter);
        }
        finally
        {
            await sampling.CancelAsync();
            await sampleLoop;
            await Runner.DisposeAllAsync(honest);
            if (sampler.ServerGone) result.Problems.Add($"the server (pid {pid}) exited during the soak");
            soak.Outcomes = outcomes.Snapshot();
            soak.HostileRefusals = outcomes.Refusals;
            var samples = sampler.Samples.OrderBy(s => s.T).ToList();
            if (samples.Count > 0) soak.Summarize(samples, start ?? samples[0], end ?? samples[^1]);
        }
    }

    /// <summary>The server's frame limit, from a <c>welcome</c>.</summary>
    private static async Task<int> MaxMessageBytesAsync(ServerApi api, LoadOptions options, CancellationToken cancellationToken)
    {
        await using var probe = await HostileSocket.OpenAsync(api.WebSocketUri, cancellationToken);
        var welcome = await probe.HelloAsync(Runner.ClientId(options, "probe"), TimeSpan.FromSeconds(30), cancellationToken);
        return welcome.Frame?.MaxMessageBytes ?? throw new InvalidOperationException($"hello was answered with {welcome.Kind}, not welcome with maxMessageBytes");
    }

    /// <summary>Builds the document the stalled readers join: <c>BigDocumentChars</c> appended in chunks within the op bound.</summary>
    private static async Task BuildAsync(ServerApi api, LoadOptions options, string doc, int maxMessageBytes, TextWriter log, CancellationToken cancellationToken)
    {
        var chunk = Math.Min(500_000, maxMessageBytes - 1024);
        var edits = (options.BigDocumentChars + chunk - 1) / chunk;
        log.WriteLine($"soak: building {doc} ({options.BigDocumentChars} chars in {edits} ops)");
        var writer = await LoadClient.ConnectAsync(api.WebSocketUri, Runner.ClientId(options, "builder"), new EditGenerator(options.Seed, EditShape.Append, chunk), cancellationToken);
        try
        {
            await writer.JoinAsync(doc, cancellationToken);
            await writer.RunClosedLoopAsync(edits).WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
            if (writer.Errors.Count > 0) throw new InvalidOperationException($"building {doc} failed: {writer.Errors[0]}");
        }
        finally
        {
            await writer.DisposeAsync();
        }
    }

    /// <summary>Waits out the load, logging the server's figures every 10% of it (at least every 60 s).</summary>
    private static async Task ReportProgressAsync(ResourceSampler sampler, Outcomes outcomes, TimeSpan duration, TextWriter log, CancellationToken cancellationToken)
    {
        var every = TimeSpan.FromSeconds(Math.Clamp(duration.TotalSeconds / 10, 1, 60));
        var started = Stopwatch.GetTimestamp();
        while (duration - Stopwatch.GetElapsedTime(started) is var left && left >= TimeSpan.FromMilliseconds(1))
        {
            // Task.Delay rounds below a millisecond to nothing; the loop ends before that could spin.
            await Task.Delay(left < every ? left : every, cancellationToken);
            var s = sampler.Samples.LastOrDefault();
            if (s is not null)
                log.WriteLine($"  {Stopwatch.GetElapsedTime(started).TotalSeconds,5:0} s: RSS {s.RssKb / 1024} MiB, {s.Fds} fds, {s.Threads} threads, {s.HonestAcks} honest acks, {outcomes.Refusals} refusals");
        }
    }
}
