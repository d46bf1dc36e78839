using Collab.Contracts;
using Microsoft.Extensions.Options;

namespace Collab.Web.Access;

/// <summary>
/// Tokens mode: fetches the cluster's revocations from <see cref="IRevocationsGrain"/> every second (only a version
/// number crosses the wire while nothing changes) and closes the sessions they cover, so a revocation reaches every
/// front end within about a second.
/// </summary>
internal sealed partial class RevocationWatcher(IGrainFactory grains, TokenSessions sessions, IOptions<AccessOptions> options,
    IHostApplicationLifetime lifetime, ILogger<RevocationWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Mode != AccessMode.Tokens) return;
        // Not before the host (and, embedded, its silo) has started: the grain has nowhere to run until then.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
            await started.Task;
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The last list stays in force; the next tick tries again.
                LogRefreshFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Fetches the list if it changed and applies it.</summary>
    public async Task RefreshAsync()
    {
        var list = await grains.GetGrain<IRevocationsGrain>(0).Get(sessions.Revocations.Version);
        if (!list.Changed) return;
        sessions.Revocations.Replace(list);
        sessions.CloseRevoked();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not refresh the token revocations; the last list stays in force")]
    private static partial void LogRefreshFailed(ILogger logger, Exception error);
}
