using System.Net.Sockets;
using System.Text;

namespace Collab.Web.Tests;

/// <summary>Sends a hand-written WebSocket upgrade request and returns the raw response head and body (HttpClient cannot send upgrades).</summary>
public static class RawHttp
{
    public static async Task<(int Status, string Response)> UpgradeAsync(Uri baseUri, string? protocol, string? origin, string? extraHeaders = null)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(baseUri.Host, baseUri.Port);
        var stream = tcp.GetStream();
        var request = new StringBuilder()
            .Append("GET /ws HTTP/1.1\r\n")
            .Append($"Host: {baseUri.Authority}\r\n")
            .Append("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n")
            .Append("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
        if (protocol is not null) request.Append($"Sec-WebSocket-Protocol: {protocol}\r\n");
        if (origin is not null) request.Append($"Origin: {origin}\r\n");
        if (extraHeaders is not null) request.Append(extraHeaders);
        request.Append("\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request.ToString()));

        var buffer = new byte[8192];
        var response = new StringBuilder();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0) break;
                response.Append(Encoding.UTF8.GetString(buffer, 0, read));
                var text = response.ToString();
                if (text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) && text.Contains("\r\n\r\n", StringComparison.Ordinal)) break;
                if (text.EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal)) break; // end of a chunked body
            }
        }
        catch (OperationCanceledException)
        {
        }
        var all = response.ToString();
        var status = int.Parse(all.AsSpan(9, 3), System.Globalization.CultureInfo.InvariantCulture);
        return (status, all);
    }
}
