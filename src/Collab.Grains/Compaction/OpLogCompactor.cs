using Collab.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Collab.Grains.Compaction;

/// <summary>
/// Runs on every silo host: measures the store every <see cref="CompactionOptions.MeasureInterval"/> and, every
/// <see cref="CompactionOptions.Interval"/>, folds the ops older than the retention window of every document into its
/// checkpoints (documents edited meanwhile are compacted by their grain after each checkpoint as well). Compactions are
/// idempotent, so silos sweeping the same shared store at once only repeat each other's work.
/// </summary>
public sealed partial class OpLogCompactor(IDocumentStore store, IOptions<CompactionOptions> options, TimeProvider time, ILogger<OpLogCompactor> logger)
    : BackgroundService
{
    private const int Page = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var nextSweep = time.GetUtcNow() + Jitter(settings.Interval);
        using var timer = new PeriodicTimer(settings.MeasureInterval, time);
        do
        {
            try
            {
                var size = await store.MeasureStoreAsync(stoppingToken);
                if (size.LimitBytes is { } limit && size.Bytes - size.FreeBytes > limit * 9 / 10)
                    LogNearlyFull(logger, size.Bytes - size.FreeBytes, limit);
                if (settings.Enabled && time.GetUtcNow() >= nextSweep)
                {
                    await SweepAsync(stoppingToken);
                    nextSweep = time.GetUtcNow() + settings.Interval;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The store is down or refused: the next tick tries again.
                LogSweepFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>One pass over every document with ops older than the retention window.</summary>
    public async Task<CompactionResult> SweepAsync(CancellationToken cancellationToken)
    {
        var policy = options.Value.Policy(time.GetUtcNow());
        long documents = 0, ops = 0, checkpoints = 0;
        string? after = null;
        while (true)
        {
            var page = await store.ListCompactableAsync(policy.RetainSince, after, Page, cancellationToken);
            foreach (var documentId in page)
            {
                var result = await store.CompactAsync(documentId, policy, cancellationToken);
                if (result.OpsDeleted > 0 || result.CheckpointsDeleted > 0) documents++;
                ops += result.OpsDeleted;
                checkpoints += result.CheckpointsDeleted;
            }
            if (page.Count < Page) break;
            after = page[^1];
        }
        if (documents > 0) LogSwept(logger, documents, ops, checkpoints);
        return new CompactionResult(0, ops, checkpoints);
    }

    /// <summary>Silos started together sweep at different times.</summary>
    private static TimeSpan Jitter(TimeSpan interval) => TimeSpan.FromTicks((long)(interval.Ticks * (0.1 + (0.2 * Random.Shared.NextDouble()))));

    [LoggerMessage(Level = LogLevel.Information, Message = "Compaction folded {Ops} ops of {Documents} documents into checkpoints and thinned {Checkpoints} old checkpoints")]
    private static partial void LogSwept(ILogger logger, long documents, long ops, long checkpoints);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Measuring or compacting the document store failed; trying again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The document store holds {Used} bytes of its {Limit}-byte limit (Collab:Storage:MaxSizeBytes); writes fail once it is full")]
    private static partial void LogNearlyFull(ILogger logger, long used, long limit);
}
