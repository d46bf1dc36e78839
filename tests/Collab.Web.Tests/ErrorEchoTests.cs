using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// Error answers say what to fix without echoing internals or the input back: no exception text, no silo address,
/// and a 10 KB invalid id or Origin is not sent back in full.
/// </summary>
public sealed class ErrorEchoTests(DefaultServer fixture) : IClassFixture<DefaultServer>
{
    private static readonly string Huge = "x-" + new string('y', 10 * 1024) + "!";

    private CollabServer Server => fixture.Server;

    // Kestrel refuses a request line over 8 KB itself (414, empty); 6 KB reaches the endpoints' own checks.
    [Theory]
    [InlineData("GET", "/api/docs/{0}", 6)]
    [InlineData("GET", "/api/docs/{0}/status", 6)]
    [InlineData("GET", "/api/docs/{0}/links", 6)]
    [InlineData("POST", "/api/docs/{0}/links/edit/rotate", 6)]
    [InlineData("POST", "/api/docs/notes/links/{0}/rotate", 6)]
    [InlineData("GET", "/api/docs/{0}", 10)]
    public async Task An_invalid_kilobytes_long_name_in_a_path_gets_a_short_answer_that_does_not_repeat_it(string method, string path, int kilobytes)
    {
        using var http = Server.Http();
        var name = "x-" + new string('y', kilobytes * 1024) + "!";
        using var response = await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, path, name)));
        Assert.Equal(kilobytes < 8 ? HttpStatusCode.BadRequest : HttpStatusCode.RequestUriTooLong, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length < 1024, $"a {body.Length}-character answer");
        Assert.DoesNotContain("yyyyyyyy", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_invalid_name_in_a_create_body_is_not_repeated_either()
    {
        using var http = Server.Http();
        using var response = await http.PostAsJsonAsync("/api/docs", new { doc = "a/" + new string('y', 900) });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("yyyyyyyy", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Frames_with_a_10_KB_doc_or_type_or_broken_json_get_errors_without_the_input_or_parser_text()
    {
        await using var client = await Server.ConnectAsync();
        await client.SendAsync(new { type = "join", doc = Huge });
        var join = await client.ExpectAsync("error");
        Assert.False(join.TryGetProperty("doc", out _));
        Assert.True(join.GetRawText().Length < 512, join.GetRawText());

        await client.SendAsync(new { type = Huge });
        Assert.True((await client.ExpectAsync("error")).GetRawText().Length < 512);

        await client.SendRawAsync("{\"type\":\"ping\",\"t\": yyyyyyyy}");
        var broken = await client.ExpectAsync("error");
        Assert.Equal("bad_json", broken.GetProperty("code").GetString());
        var message = broken.GetProperty("message").GetString()!;
        Assert.StartsWith("invalid JSON at byte ", message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", message, StringComparison.Ordinal);
        Assert.DoesNotContain("'y'", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/sse")]
    [InlineData("/ws")]
    public async Task A_refused_10_KB_origin_is_named_only_in_part(string path)
    {
        using var http = Server.Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (path == "/ws")
        {
            request.Headers.Add("Connection", "Upgrade");
            request.Headers.Add("Upgrade", "websocket");
            request.Headers.Add("Sec-WebSocket-Version", "13");
            request.Headers.Add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
            request.Headers.Add("Sec-WebSocket-Protocol", "collab.v1");
        }
        request.Headers.TryAddWithoutValidation("Origin", "https://" + new string('y', 10 * 1024) + ".example");
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(body.Length < 256, $"a {body.Length}-character answer");
        Assert.Contains("is not allowed", body, StringComparison.Ordinal);
    }
}
