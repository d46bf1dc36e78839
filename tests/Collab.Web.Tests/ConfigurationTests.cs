using Microsoft.Extensions.Options;
using Xunit;

namespace Collab.Web.Tests;

public sealed class ConfigurationTests
{
    [Theory]
    [InlineData("Collab:FrontEnd:HeartbeatMs", "60000")]
    [InlineData("Collab:FrontEnd:MaxMessageBytes", "10")]
    [InlineData("Collab:FrontEnd:AllowedOrigins:0", "not an origin")]
    [InlineData("Collab:Documents:WindowSize", "0")]
    [InlineData("Collab:Documents:IdleCollectionAfter", "00:00:05")]
    [InlineData("Collab:Access:MaxDocumentsPerOwner", "-1")]
    [InlineData("Collab:Storage:DataPath", " ")]
    [InlineData("Collab:Access:SigningKey", "not base64!")]
    [InlineData("Collab:Access:SigningKey", "c2hvcnQ=")]
    public async Task An_invalid_setting_stops_the_start_with_a_message_naming_it(string key, string value)
    {
        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var server = await CollabServer.StartAsync(new Dictionary<string, string> { [key] = value });
        });
        Assert.Contains(key.Split(':')[..3].Aggregate((a, b) => a + ":" + b), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_silo_port_fails_before_anything_starts()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Collab.Web.Hosting.CollabApp.Build(["--Collab:Cluster:SiloPort", "70000"]));
        Assert.Contains("Collab:Cluster:SiloPort", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Collab:Storage:Provider", "Mongo")]
    [InlineData("Collab:Storage:PostgresAuthentication", "Kerberos")]
    [InlineData("Collab:Cluster:Clustering", "Zookeeper")]
    public void An_unknown_choice_fails_before_anything_starts_naming_the_key_and_the_value(string key, string value)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Collab.Web.Hosting.CollabApp.Build(["--" + key, value]));
        Assert.Contains(key, error.Message, StringComparison.Ordinal);
        Assert.Contains(value, error.Message, StringComparison.Ordinal);
    }
}
