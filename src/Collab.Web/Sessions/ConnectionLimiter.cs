using System.Collections.Concurrent;
using System.Net;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Microsoft.Extensions.Options;

namespace Collab.Web.Sessions;

/// <summary>
/// Caps live sessions (WebSocket and SSE alike) per host and per client address. The address is the peer's, or — when
/// the peer is a configured proxy (<c>Collab:FrontEnd:TrustedProxies</c>) — the last address that proxy put in
/// <c>X-Forwarded-For</c>; a forwarded header from anyone else is ignored, so clients cannot pick their own address.
/// </summary>
internal sealed class ConnectionLimiter
{
    private readonly FrontEndOptions options;

    private readonly ConcurrentDictionary<string, int> perAddress = new(StringComparer.Ordinal);
    private int total;

    public ConnectionLimiter(IOptions<FrontEndOptions> frontEnd)
    {
        options = frontEnd.Value;
        FrontEndMetrics.TrackSessions(this, () => Total);
    }

    public int Total => Volatile.Read(ref total);

    /// <summary>A lease on one session slot, or null with the close code and reason to refuse with.</summary>
    public Lease? TryAcquire(HttpContext context, out int code, out string reason)
    {
        var address = ClientAddress(context);
        if (Interlocked.Increment(ref total) > options.MaxSessions)
        {
            Interlocked.Decrement(ref total);
            (code, reason) = (CloseCodes.ServerFull, $"this server holds its maximum of {options.MaxSessions} sessions; try again shortly");
            return null;
        }
        var count = perAddress.AddOrUpdate(address, 1, (_, n) => n + 1);
        if (count > options.MaxSessionsPerAddress)
        {
            Release(address);
            (code, reason) = (CloseCodes.TooManyFromAddress, $"more than {options.MaxSessionsPerAddress} sessions from your address; close some tabs or try again shortly");
            return null;
        }
        (code, reason) = (0, "");
        return new Lease(this, address);
    }

    private void Release(string address)
    {
        Interlocked.Decrement(ref total);
        // Remove the entry when it drops to zero, unless another session of the address raced in.
        while (perAddress.TryGetValue(address, out var n))
        {
            if (n <= 1 ? perAddress.TryRemove(new KeyValuePair<string, int>(address, n)) : perAddress.TryUpdate(address, n - 1, n)) break;
        }
    }

    /// <summary>Who the client is, for the per-address cap.</summary>
    public string ClientAddress(HttpContext context)
    {
        var peer = context.Connection.RemoteIpAddress;
        var peerText = peer?.IsIPv4MappedToIPv6 == true ? peer.MapToIPv4().ToString() : peer?.ToString() ?? "unknown";
        if (!options.TrustsProxy(peer)) return peerText;
        var forwarded = context.Request.Headers["X-Forwarded-For"].ToString();
        var last = forwarded.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return last is not null && IPAddress.TryParse(last, out var client) ? client.ToString() : peerText;
    }

    public sealed class Lease(ConnectionLimiter limiter, string address) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0) limiter.Release(address);
        }
    }
}
