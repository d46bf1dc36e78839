using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Collab.Storage.Postgres;

/// <summary>Where the PostgreSQL document store keeps documents; bound from <c>Collab:Storage</c>.</summary>
public sealed class PostgresDocumentStoreOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Collab:Storage";

    /// <summary>
    /// Npgsql connection string of the database, for example <c>Host=db;Database=collab;Username=collab;Password=…</c>.
    /// Required when the PostgreSQL store is used.
    /// </summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>Schema holding the store's tables, created by the store's migrations when missing.</summary>
    public string Schema { get; set; } = "collab";
}

/// <summary>Fails start-up with a message naming the setting when <see cref="PostgresDocumentStoreOptions"/> cannot work.</summary>
public sealed partial class PostgresDocumentStoreOptionsValidator : IValidateOptions<PostgresDocumentStoreOptions>
{
    private const string Prefix = PostgresDocumentStoreOptions.SectionName + ":";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgresDocumentStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.PostgresConnectionString))
        {
            failures.Add($"{Prefix}{nameof(options.PostgresConnectionString)} must be set to an Npgsql connection string "
                + "(for example \"Host=localhost;Database=collab;Username=collab;Password=...\") to use the PostgreSQL document store.");
        }
        else
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(options.PostgresConnectionString);
                if (string.IsNullOrWhiteSpace(builder.Host))
                {
                    failures.Add($"{Prefix}{nameof(options.PostgresConnectionString)} must name a Host.");
                }
            }
            catch (ArgumentException exception)
            {
                // The parser's message names the bad keyword; the connection string itself may hold a password, so it is not echoed.
                failures.Add($"{Prefix}{nameof(options.PostgresConnectionString)} is not a valid Npgsql connection string: {exception.Message}");
            }
        }

        if (options.Schema is null || !SchemaName().IsMatch(options.Schema))
        {
            failures.Add($"{Prefix}{nameof(options.Schema)} '{options.Schema}' must be a plain identifier: a letter or '_', "
                + "then letters, digits or '_', at most 63 characters (for example \"collab\").");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
