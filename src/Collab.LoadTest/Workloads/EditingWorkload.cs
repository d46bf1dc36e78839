using System.Diagnostics;

namespace Collab.LoadTest;

/// <summary>
/// W1–W3: <c>Clients</c> editors on each of <c>Documents</c> documents, typing at <c>Rate</c> edits/s each (or closed
/// loop), <c>Warmup</c> unmeasured, then <c>Duration</c> measured: server CPU, committed ops, broadcast latency.
/// </summary>
internal static class EditingWorkload
{
    public static async Task RunAsync(ServerApi api, LoadOptions options, RunResult result, TextWriter log, CancellationToken cancellationToken)
    {
        var total = options.Documents * options.Clients;
        log.WriteLine($"{options.Workload}: connecting {total} clients to {options.Documents} documents");
        var clients = await Runner.ConnectAsync(api, options, total, i => $"{options.DocPrefix}-d{i / options.Clients}", i => new EditGenerator(options.Seed * 10_007 + i), cancellationToken);
        result.Connections = total;
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var loops = options.Rate == 0
                ? clients.Select(c => c.RunClosedLoopAsync()).ToArray()
                : clients.Select((c, i) => RateLoopAsync(c, options.Rate, new Random(options.Seed + i), stop.Token)).ToArray();
            if (options.Warmup > TimeSpan.Zero)
            {
                log.WriteLine($"warming up for {options.Warmup.TotalSeconds:0.#} s");
                await Task.Delay(options.Warmup, cancellationToken);
            }
            var machineBefore = MachineProbe.Sample();
            var before = ServerProbe.Sample(options.ServerPid);
            var from = Stopwatch.GetTimestamp();
            var editsBefore = clients.Sum(c => (long)c.EditsMade);
            log.WriteLine($"measuring for {options.Duration.TotalSeconds:0.#} s");
            await Task.Delay(options.Duration, cancellationToken);
            var after = ServerProbe.Sample(options.ServerPid);
            var machineAfter = MachineProbe.Sample();
            var to = Stopwatch.GetTimestamp();
            result.Edits = clients.Sum(c => (long)c.EditsMade) - editsBefore;
            await stop.CancelAsync();
            foreach (var c in clients) c.Stop();
            await Task.WhenAll(loops).WaitAsync(options.ConvergeTimeout, cancellationToken);

            result.MeasuredSeconds = Stopwatch.GetElapsedTime(from, to).TotalSeconds;
            result.Resends = clients.Sum(c => (long)c.Resends);
            await Runner.CheckConvergenceAsync(api, clients, options, result, cancellationToken);

            result.CommittedOps = clients.Sum(c => (long)c.Sent.Count(s => s.SentAt >= from && s.SentAt < to));
            result.CommittedOpsPerSecond = result.CommittedOps / result.MeasuredSeconds;
            var samples = new List<double>();
            foreach (var doc in clients.GroupBy(c => c.Doc))
            {
                var (s, missing) = Latency.Broadcast([.. doc], from, to);
                samples.AddRange(s);
                result.LatencyMissing += missing;
            }
            result.BroadcastLatencyMs = LatencyStats.Of(samples);
            result.SetServer(before, after);
            result.SetMachine(machineBefore, machineAfter);
            if (result.CommittedOps > 0 && result.ServerCpuSeconds is { } cpu) result.ServerCpuUsPerCommittedOp = cpu * 1e6 / result.CommittedOps;
        }
        finally
        {
            await Runner.DisposeAllAsync(clients);
        }
    }

    /// <summary>One edit every 1/rate seconds from a random phase; a late tick is not made up with a burst.</summary>
    public static async Task RateLoopAsync(LoadClient client, double rate, Random random, CancellationToken stop)
    {
        var period = TimeSpan.FromSeconds(1 / rate);
        var next = Stopwatch.GetTimestamp() + (long)(random.NextDouble() * period.TotalSeconds * Stopwatch.Frequency);
        var step = (long)(period.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, stop);
                client.Edit();
                next += step;
                var now = Stopwatch.GetTimestamp();
                if (next < now) next = now;
            }
        }
        catch (OperationCanceledException)
        {
            // The measured window (or the soak) ended.
        }
    }
}
