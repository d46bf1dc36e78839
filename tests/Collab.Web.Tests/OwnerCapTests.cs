using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// <c>Collab:Access:MaxDocumentsPerOwner</c>: one address (Links mode) or one token subject (Tokens mode) creates at most
/// that many documents; the next <c>POST /api/docs</c> gets <c>403</c> <c>too_many_documents</c>; the operator key is not
/// counted; the count survives a restart.
/// </summary>
public sealed class OwnerCapTests
{
    private const int Cap = 3;
    private const string SigningKeyBase64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v";

    private static Dictionary<string, string> Links() => new()
    {
        ["Collab:Access:Mode"] = "Links",
        ["Collab:Access:SigningKey"] = SigningKeyBase64,
        ["Collab:Access:MaxDocumentsPerOwner"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Collab:Operations:OperatorKey"] = LinksServer.OperatorKey,
    };

    [Fact]
    public async Task One_address_creates_at_most_the_cap_in_links_mode_and_a_restart_does_not_reset_it()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "collab-web-tests", Guid.NewGuid().ToString("N"));
        await using (var server = await CollabServer.StartAsync(Links(), dataPath))
        {
            using var http = server.Http();
            var first = await CreateAsync(http, "cap-first");
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
            // A taken name is refused and not counted.
            Assert.Equal(HttpStatusCode.Conflict, (await CreateAsync(http, "cap-first")).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(http, null)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(http, "cap-third")).StatusCode);

            await AssertRefusedAsync(await CreateAsync(http, "cap-fourth"));
            await AssertRefusedAsync(await CreateAsync(http, null));

            // The operator is not limited, and the refused name was not created.
            using var operatorHttp = server.Http();
            operatorHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", LinksServer.OperatorKey);
            Assert.Equal(HttpStatusCode.Created, (await CreateAsync(operatorHttp, "cap-fourth")).StatusCode);
        }

        await using var restarted = await CollabServer.StartAsync(Links(), dataPath);
        using var again = restarted.Http();
        await AssertRefusedAsync(await CreateAsync(again, "cap-fifth"));
    }

    [Fact]
    public async Task One_token_subject_creates_at_most_the_cap_in_tokens_mode_and_another_subject_is_not_affected()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string>
        {
            ["Collab:Access:Mode"] = "Tokens",
            ["Collab:Access:Tokens:Issuer"] = TestTokens.Issuer,
            ["Collab:Access:Tokens:Audience"] = TestTokens.Audience,
            ["Collab:Access:Tokens:HmacKey"] = Convert.ToBase64String(TestTokens.Key),
            ["Collab:Access:MaxDocumentsPerOwner"] = Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var ada = server.Http();
        ada.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("ada", ["write:*"]));
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(ada, "t-one")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(ada, "t-one")).StatusCode); // the same name counts once
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(ada, "t-two")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(ada, "t-three")).StatusCode);
        await AssertRefusedAsync(await CreateAsync(ada, "t-four"));

        // A new token for the same subject is the same owner; another subject has its own count.
        using var adaAgain = server.Http();
        adaAgain.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("ada", ["write:*"], jti: "second"));
        await AssertRefusedAsync(await CreateAsync(adaAgain, "t-five"));
        using var bob = server.Http();
        bob.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", TestTokens.Mint("bob", ["write:*"]));
        Assert.Equal(HttpStatusCode.Created, (await CreateAsync(bob, "t-four")).StatusCode);
    }

    private static Task<HttpResponseMessage> CreateAsync(HttpClient http, string? doc) =>
        doc is null ? http.PostAsync("/api/docs", null) : http.PostAsJsonAsync("/api/docs", new { doc });

    private static async Task AssertRefusedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("too_many_documents", problem.GetProperty("code").GetString());
        Assert.Contains($"{Cap} documents", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", problem.GetRawText(), StringComparison.Ordinal);
    }
}
