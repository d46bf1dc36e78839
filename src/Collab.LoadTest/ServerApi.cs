using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Collab.LoadTest;

/// <summary>The server's HTTP surface the load tool needs: <c>GET /api/docs/{doc}</c> and <c>/readyz</c>.</summary>
internal sealed class ServerApi(Uri baseUri) : IDisposable
{
    private readonly HttpClient http = new() { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(30) };

    public Uri BaseUri { get; } = baseUri;

    public Uri WebSocketUri { get; } = new UriBuilder(baseUri) { Scheme = baseUri.Scheme == "https" ? "wss" : "ws", Path = "/ws" }.Uri;

    public async Task<DocText> GetDocAsync(string doc, CancellationToken cancellationToken = default) =>
        await http.GetFromJsonAsync<DocText>($"/api/docs/{Uri.EscapeDataString(doc)}", cancellationToken)
        ?? throw new InvalidOperationException($"GET /api/docs/{doc} answered nothing");

    /// <summary>Polls <c>/readyz</c> every 20 ms until it answers 200; returns how long that took.</summary>
    public async Task<TimeSpan> WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/readyz", cancellationToken);
                if (response.IsSuccessStatusCode) return Stopwatch.GetElapsedTime(started);
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            if (Stopwatch.GetElapsedTime(started) > timeout) throw new TimeoutException($"{http.BaseAddress}readyz did not answer 200 within {timeout.TotalSeconds:0} s");
            await Task.Delay(20, cancellationToken);
        }
    }

    public void Dispose() => http.Dispose();
}

/// <summary>The body of <c>GET /api/docs/{doc}</c>.</summary>
internal sealed record DocText(
    [property: JsonPropertyName("doc")] string Doc,
    [property: JsonPropertyName("rev")] long Rev,
    [property: JsonPropertyName("text")] string Text);
