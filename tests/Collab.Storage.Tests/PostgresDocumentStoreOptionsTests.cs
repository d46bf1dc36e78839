using Collab.Storage.Postgres;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace Collab.Storage.Tests;

/// <summary>Option checks of the PostgreSQL store; they need no server, so they run even where PostgreSQL is not installed.</summary>
public sealed class PostgresDocumentStoreOptionsTests
{
    [Fact]
    public void A_missing_connection_string_fails_fast_naming_the_setting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new PostgresDocumentStore(new PostgresDocumentStoreOptions()));

        Assert.Contains("Collab:Storage:PostgresConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Nonsense=1")]
    [InlineData("Host=db;Port=notaport")]
    [InlineData("Database=collab")]
    public void A_malformed_connection_string_fails_fast_naming_the_setting(string connectionString)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new PostgresDocumentStore(
            Microsoft.Extensions.Options.Options.Create(new PostgresDocumentStoreOptions { PostgresConnectionString = connectionString }),
            NullLogger<PostgresDocumentStore>.Instance));

        Assert.Contains("Collab:Storage:PostgresConnectionString", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rejected_connection_string_is_not_echoed_so_its_password_stays_out_of_logs()
    {
        var error = Assert.Throws<OptionsValidationException>(() => new PostgresDocumentStore(
            new PostgresDocumentStoreOptions { PostgresConnectionString = "Host=db;Password=hunter2;Port=notaport" }));

        Assert.Contains("Collab:Storage:PostgresConnectionString", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("quo\"te")]
    [InlineData("1starts_with_digit")]
    public void An_unusable_schema_name_fails_fast_naming_the_setting(string name)
    {
        var error = Assert.Throws<OptionsValidationException>(() => new PostgresDocumentStore(
            new PostgresDocumentStoreOptions { PostgresConnectionString = "Host=db", Schema = name }));

        Assert.Contains("Collab:Storage:Schema", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_schema_is_collab_and_valid_with_a_connection_string()
    {
        var defaults = new PostgresDocumentStoreOptions { PostgresConnectionString = "Host=db;Database=collab;Username=collab;Password=secret" };

        Assert.Equal("collab", defaults.Schema);
        Assert.Null(defaults.Validate());
    }
}
