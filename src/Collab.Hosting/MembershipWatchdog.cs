using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Runtime;

namespace Collab.Hosting;

/// <summary>
/// Watches this silo's own row in the membership table (Redis or Azure Table). When the table loses it — Redis
/// restarted without persistence, a key evicted, a failover to an empty replica, the table deleted — Orleans cannot
/// heal: every heartbeat of the silo fails and nothing joins again. The watchdog sees the row missing on consecutive
/// checks, says so, and stops the process with exit code <see cref="ExitCode"/>, so its supervisor (systemd, App
/// Service, Kubernetes) starts it again; a fresh start re-creates the table and joins (docs/operations.md).
/// </summary>
internal sealed partial class MembershipWatchdog(
    IMembershipTable table, ILocalSiloDetails silo, IHostApplicationLifetime lifetime, ILogger<MembershipWatchdog> logger) : BackgroundService
{
    /// <summary>EX_TEMPFAIL: a temporary failure, try again (what a supervisor should do).</summary>
    public const int ExitCode = 75;

    /// <summary>How often the row is read.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive checks that must find the row missing (a table being rebuilt has a moment without it).</summary>
    public const int MissesToExit = 3;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var seen = false;
        var misses = 0;
        using var timer = new PeriodicTimer(Period);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            bool present;
            try
            {
                var data = await table.ReadRowAsync(silo.SiloAddress, stoppingToken).WaitAsync(Period, stoppingToken).ConfigureAwait(false);
                present = data.Members.Count > 0;
            }
            catch (Exception e) when (TableIsGone(e))
            {
                // The store answers, but the table itself is gone: Redis says "the Redis membership table version is
                // missing", Azure Table Storage "the table specified does not exist" (404 under Orleans' exception).
                LogUnreadable(logger, e);
                present = false;
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The table cannot be read (Redis down): nothing to conclude; running silos keep serving meanwhile.
                LogUnreadable(logger, e);
                continue;
            }
            if (present)
            {
                seen = true;
                misses = 0;
                continue;
            }
            // Before the silo has joined its row is not there yet.
            if (!seen || ++misses < MissesToExit) continue;
            LogRowLost(logger, silo.SiloAddress.ToString(), misses, ExitCode);
            Environment.ExitCode = ExitCode;
            lifetime.StopApplication();
            // A shutdown that hangs on the lost table must not keep the process up forever.
            _ = Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => Environment.Exit(ExitCode), TaskScheduler.Default);
            return;
        }
    }

    /// <summary>Whether <paramref name="error"/> says the membership table no longer exists (rather than that its store is unreachable).</summary>
    internal static bool TableIsGone(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is Orleans.Clustering.Redis.RedisClusteringException) return true;
            if (e is Azure.RequestFailedException { Status: 404 }) return true;
        }
        return false;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Membership watchdog: the membership table could not be read")]
    private static partial void LogUnreadable(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The membership table lost this silo's row ({Silo}) on {Misses} checks in a row (was the membership store restarted without persistence?); this silo cannot rejoin while running and exits with code {ExitCode} for its supervisor to restart it")]
    private static partial void LogRowLost(ILogger logger, string silo, int misses, int exitCode);
}
