using System.Threading.RateLimiting;
using Collab.Web.Hosting;
using Collab.Web.Sessions;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Collab.Web.Endpoints;

/// <summary>
/// ASP.NET Core's rate limiter on the HTTP API: a token bucket per client address (the one the connection caps use, so
/// forwarded addresses count only from trusted proxies). Refusals are <c>429</c> with <c>Retry-After</c>.
/// </summary>
internal static class ApiRateLimit
{
    public const string Policy = "collab-api";

    public static void Add(IServiceCollection services) => services.AddRateLimiter(limiter =>
    {
        limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        limiter.AddPolicy(Policy, context =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<FrontEndOptions>>().Value;
            var address = context.RequestServices.GetRequiredService<ConnectionLimiter>().ClientAddress(context);
            return RateLimitPartition.GetTokenBucketLimiter(address, _ => new TokenBucketRateLimiterOptions
            {
                TokenLimit = options.ApiBurst,
                TokensPerPeriod = options.ApiRequestsPerSecond,
                ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            });
        });
        limiter.OnRejected = async (rejected, cancellationToken) =>
        {
            rejected.HttpContext.Response.Headers.RetryAfter = "1";
            await rejected.HttpContext.Response.WriteAsJsonAsync(
                new { code = "rate_limited", message = "too many API requests from your address; retry after Retry-After seconds" }, cancellationToken);
        };
    });
}
