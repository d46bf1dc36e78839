using System.Text.RegularExpressions;
using Npgsql;

namespace Collab.Storage.Postgres;

/// <summary>Where the PostgreSQL document store keeps documents; bound from <c>Collab:Storage</c>.</summary>
public sealed partial class PostgresDocumentStoreOptions
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

    /// <summary>Null when these options can work, otherwise one message naming each bad <c>Collab:Storage</c> key.</summary>
    public string? Validate()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(PostgresConnectionString))
        {
            failures.Add($"{SectionName}:{nameof(PostgresConnectionString)} must be set to an Npgsql connection string "
                + "(for example \"Host=localhost;Database=collab;Username=collab;Password=...\") to use the PostgreSQL document store.");
        }
        else
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(PostgresConnectionString);
                if (string.IsNullOrWhiteSpace(builder.Host))
                {
                    failures.Add($"{SectionName}:{nameof(PostgresConnectionString)} must name a Host.");
                }
            }
            catch (ArgumentException exception)
            {
                // The parser's message names the bad keyword; the connection string itself may hold a password, so it is not echoed.
                failures.Add($"{SectionName}:{nameof(PostgresConnectionString)} is not a valid Npgsql connection string: {exception.Message}");
            }
        }

        if (Schema is null || !SchemaName().IsMatch(Schema))
        {
            failures.Add($"{SectionName}:{nameof(Schema)} '{Schema}' must be a plain identifier: a letter or '_', "
                + "then letters, digits or '_', at most 63 characters (for example \"collab\").");
        }

        return failures.Count == 0 ? null : string.Join(" ", failures);
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaName();
}
