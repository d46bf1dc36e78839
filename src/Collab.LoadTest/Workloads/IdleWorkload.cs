namespace Collab.LoadTest;

/// <summary>
/// W4: <c>Connections</c> sockets, each after hello and a join of one of <c>Documents</c> documents (round robin), left
/// idle for <c>Settle</c>; the server's RSS growth divided by the connections is the cost of one connection.
/// </summary>
internal static class IdleWorkload
{
    public static async Task RunAsync(ServerApi api, LoadOptions options, RunResult result, TextWriter log, CancellationToken cancellationToken)
    {
        if (options.Warmup > TimeSpan.Zero)
        {
            // Warm the paths a connection takes (JIT, pools, a grain activation) so their one-off cost is not counted per connection.
            log.WriteLine($"warming up: 20 connections, one edit each, then {options.Warmup.TotalSeconds:0.#} s idle");
            var warm = await Runner.ConnectAsync(api, options, 20, i => $"{options.DocPrefix}-warm{i % 2}", i => new EditGenerator(i), cancellationToken);
            await Task.WhenAll(warm.Select(c => c.RunClosedLoopAsync(1)));
            await Runner.DisposeAllAsync(warm);
            await Task.Delay(options.Warmup, cancellationToken);
        }
        var machineBefore = MachineProbe.Sample();
        var before = ServerProbe.Sample(options.ServerPid);
        log.WriteLine($"W4: opening {options.Connections} connections on {options.Documents} documents");
        var clients = await Runner.ConnectAsync(api, options, options.Connections, i => $"{options.DocPrefix}-d{i % options.Documents}", i => new EditGenerator(i), cancellationToken);
        result.Connections = clients.Length;
        try
        {
            log.WriteLine($"idle for {options.Settle.TotalSeconds:0.#} s");
            await Task.Delay(options.Settle, cancellationToken);
            var after = ServerProbe.Sample(options.ServerPid);
            var machineAfter = MachineProbe.Sample();
            result.MeasuredSeconds = options.Settle.TotalSeconds;
            result.SetServer(before, after);
            result.SetMachine(machineBefore, machineAfter);
            if (before is { } b && after is { } a) result.ServerRssKbPerConnection = (double)(a.RssKb - b.RssKb) / clients.Length;
            await Runner.CheckConvergenceAsync(api, clients, options, result, cancellationToken);
        }
        finally
        {
            await Runner.DisposeAllAsync(clients);
        }
    }
}
