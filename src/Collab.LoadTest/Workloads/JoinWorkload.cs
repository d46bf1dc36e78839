using System.Diagnostics;

namespace Collab.LoadTest;

/// <summary>
/// W5: <c>Clients</c> writers build one document of <c>DocumentChars</c> from <c>Edits</c> appended chunks; then
/// <c>Joins</c> fresh connections each time <c>join</c> → the complete <c>joined</c> frame (full text); the median is the figure.
/// </summary>
internal static class JoinWorkload
{
    public static async Task RunAsync(ServerApi api, LoadOptions options, RunResult result, TextWriter log, CancellationToken cancellationToken)
    {
        var doc = $"{options.DocPrefix}-big";
        var chunk = (options.DocumentChars + options.Edits - 1) / options.Edits;
        var writers = Math.Min(options.Clients, options.Edits);
        log.WriteLine($"W5: {writers} writers append {options.Edits} chunks of {chunk} chars to {doc}");
        var started = Stopwatch.GetTimestamp();
        var clients = await Runner.ConnectAsync(api, options, writers, _ => doc, i => new EditGenerator(i, EditShape.Append, chunk), cancellationToken);
        try
        {
            await Task.WhenAll(clients.Select((c, i) => c.RunClosedLoopAsync((options.Edits / writers) + (i < options.Edits % writers ? 1 : 0))));
            result.Edits = clients.Sum(c => (long)c.EditsMade);
            result.CommittedOps = clients.Sum(c => (long)c.Sent.Count);
            log.WriteLine($"built in {Stopwatch.GetElapsedTime(started).TotalSeconds:0.0} s");
            await Runner.CheckConvergenceAsync(api, clients, options, result, cancellationToken);
        }
        finally
        {
            await Runner.DisposeAllAsync(clients);
        }

        var server = await api.GetDocAsync(doc, cancellationToken);
        result.DocumentChars = server.Text.Length;
        var machineBefore = MachineProbe.Sample();
        var before = ServerProbe.Sample(options.ServerPid);
        var joinsStarted = Stopwatch.GetTimestamp();
        result.JoinMs = [];
        for (var i = 0; i < options.Joins; i++)
        {
            var joiner = await LoadClient.ConnectAsync(api.WebSocketUri, Runner.ClientId(options, $"j{i}"), new EditGenerator(i), cancellationToken);
            try
            {
                result.JoinMs.Add(await joiner.JoinAsync(doc, cancellationToken));
                var (rev, text) = joiner.Snapshot();
                if (rev != server.Rev || text != server.Text)
                {
                    result.Converged = false;
                    result.Problems.Add($"join {i}: got rev {rev} ({text.Length} chars), server has rev {server.Rev} ({server.Text.Length} chars)");
                }
            }
            finally
            {
                await joiner.DisposeAsync();
            }
        }
        var after = ServerProbe.Sample(options.ServerPid);
        var machineAfter = MachineProbe.Sample();
        result.MeasuredSeconds = Stopwatch.GetElapsedTime(joinsStarted).TotalSeconds;
        result.Connections = writers + options.Joins;
        result.JoinMedianMs = LatencyStats.Median(result.JoinMs);
        result.SetServer(before, after);
        result.SetMachine(machineBefore, machineAfter);
    }
}
