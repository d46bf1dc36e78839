using System.Net;
using Collab.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// Liveness and readiness as the App Service health check sees them: a store that fails does not take the instance out
/// of rotation (every instance shares it), and only an operator's key gets the error behind it.
/// </summary>
public sealed class HealthTests
{
    private const string OperatorKey = "operator-key-0123456789";

    [Fact]
    public async Task A_failing_store_keeps_readyz_200_and_only_the_operator_key_sees_why()
    {
        await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { ["Collab:Operations:OperatorKey"] = OperatorKey });
        using var http = server.Http();

        Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));
        var healthy = await GetAsync(http, "/readyz", key: null);
        Assert.Equal(HttpStatusCode.OK, healthy.Status);
        Assert.Equal("ready: 1 silo(s), store reachable\n", healthy.Body);

        // A database another process migrated to a schema this build does not know: every ping fails.
        var path = server.Services.GetRequiredService<SqliteDocumentStore>().DatabasePath;
        await SetUserVersionAsync(path, 99);
        try
        {
            var anonymous = await GetAsync(http, "/readyz", key: null);
            Assert.Equal(HttpStatusCode.OK, anonymous.Status);
            Assert.Equal("ready: 1 silo(s), store unreachable\n", anonymous.Body);

            var wrongKey = await GetAsync(http, "/readyz", key: OperatorKey + "x");
            Assert.Equal("ready: 1 silo(s), store unreachable\n", wrongKey.Body);

            var operatorView = await GetAsync(http, "/readyz", key: OperatorKey);
            Assert.Equal(HttpStatusCode.OK, operatorView.Status);
            Assert.StartsWith("ready: 1 silo(s), store unreachable: InvalidOperationException: ", operatorView.Body, StringComparison.Ordinal);
            Assert.Contains("schema version 99", operatorView.Body, StringComparison.Ordinal);

            Assert.Equal("ok\n", await http.GetStringAsync("/healthz"));
        }
        finally
        {
            await SetUserVersionAsync(path, 5); // the schema version this build writes
        }

        Assert.Equal("ready: 1 silo(s), store reachable\n", (await GetAsync(http, "/readyz", key: OperatorKey)).Body);
    }

    [Fact]
    public async Task Without_an_operator_key_nobody_gets_detail_not_even_with_an_empty_bearer()
    {
        await using var server = await CollabServer.StartAsync();
        using var http = server.Http();
        var path = server.Services.GetRequiredService<SqliteDocumentStore>().DatabasePath;
        await SetUserVersionAsync(path, 99);

        Assert.Equal("ready: 1 silo(s), store unreachable\n", (await GetAsync(http, "/readyz", key: "")).Body);
        Assert.Equal("ready: 1 silo(s), store unreachable\n", (await GetAsync(http, "/readyz", key: "anything-at-all-long")).Body);
    }

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, string path, string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null) request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        using var response = await http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static async Task SetUserVersionAsync(string path, int version)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"PRAGMA user_version = {version};";
        await command.ExecuteNonQueryAsync();
    }
}
