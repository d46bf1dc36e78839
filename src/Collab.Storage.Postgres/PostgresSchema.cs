using Microsoft.Extensions.Logging;
using Npgsql;

namespace Collab.Storage.Postgres;

/// <summary>
/// The versioned schema of the PostgreSQL store: a <c>schema_version</c> table and numbered migrations, applied at start-up
/// under a transaction-scoped advisory lock so that any number of processes may start at once.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>The schema version this code writes; a database with a newer version is refused.</summary>
    public const int CurrentVersion = 5;

    // First key of the advisory lock ("Coll"); the second is a hash of the schema name, so stores in different schemas
    // of one database do not wait for each other.
    private const int AdvisoryLockClass = 0x436F6C6C;

    // Entry i upgrades the schema from version i to i + 1; {0} is the quoted schema name. Append, never edit.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE {0}.ops (
            doc          text COLLATE "C" NOT NULL,
            rev          bigint      NOT NULL,
            client_id    text        NOT NULL,
            seq          bigint      NOT NULL,
            op           text        NOT NULL,
            committed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (doc, rev)
        );
        COMMENT ON TABLE {0}.ops IS 'Collab op log: append-only, one row per committed revision; op is canonical JSON text.';
        CREATE TABLE {0}.snapshots (
            doc      text COLLATE "C" NOT NULL PRIMARY KEY,
            rev      bigint      NOT NULL,
            text     bytea       NOT NULL,
            clients  jsonb       NOT NULL,
            saved_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON COLUMN {0}.snapshots.text IS 'Document text as UTF-8 (bytea: PostgreSQL text cannot hold U+0000); read with convert_from(text, ''UTF8'').';
        """,
        """
        CREATE TABLE {0}.access (
            doc        text COLLATE "C" NOT NULL PRIMARY KEY,
            owner_gen  bigint      NOT NULL,
            edit_gen   bigint      NOT NULL,
            view_gen   bigint      NOT NULL,
            created_at timestamptz NOT NULL
        );
        COMMENT ON TABLE {0}.access IS 'Collab share-link generations per document: links of an older generation are revoked.';
        CREATE TABLE {0}.revocations (
            kind       text COLLATE "C" NOT NULL,
            value      text COLLATE "C" NOT NULL,
            revoked_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            PRIMARY KEY (kind, value)
        );
        COMMENT ON TABLE {0}.revocations IS 'Collab token revocations: a token (kind token, its jti) or every token of a user issued until revoked_at (kind user, its sub).';
        """,
        """
        CREATE TABLE {0}.owned (
            owner      text COLLATE "C" NOT NULL,
            doc        text COLLATE "C" NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (owner, doc)
        );
        COMMENT ON TABLE {0}.owned IS 'Collab documents per creator (an address or a token sub), for Collab:Access:MaxDocumentsPerOwner.';
        """,
        """
        CREATE TABLE {0}.checkpoints (
            doc      text COLLATE "C" NOT NULL,
            rev      bigint      NOT NULL,
            text     bytea       NOT NULL,
            saved_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (doc, rev)
        );
        COMMENT ON TABLE {0}.checkpoints IS 'Collab history checkpoints: the text (UTF-8) at chosen revisions; compaction folds older ops into them.';
        """,
        """
        CREATE TABLE {0}.writers (
            doc   text COLLATE "C" NOT NULL PRIMARY KEY,
            epoch bigint NOT NULL
        );
        COMMENT ON TABLE {0}.writers IS 'Collab writer epoch per document: raised by each new activation; appends carrying an older epoch are refused.';
        """,
    ];

    /// <summary>The schema name as a quoted identifier (validated by the options validator to be plain).</summary>
    public static string Quote(string schema) => "\"" + schema + "\"";

    /// <summary>Brings the schema up to date, creating it when missing.</summary>
    /// <returns>The schema version after migrating.</returns>
    public static async Task<int> MigrateAsync(NpgsqlDataSource dataSource, string schema, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // Fast path without locks or DDL, so a role without CREATE rights can run an up-to-date schema.
        var version = await ReadVersionAsync(connection, null, schema, cancellationToken).ConfigureAwait(false);
        if (version == CurrentVersion)
        {
            return version;
        }

        ThrowIfNewer(version, schema);
        var quoted = Quote(schema);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        // Held until COMMIT: a second process starting now waits here, then finds the work done.
        await using (var command = new NpgsqlCommand($"""
            SELECT pg_advisory_xact_lock({AdvisoryLockClass}, hashtext($1));
            """, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = schema });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await ExecuteAsync(connection, transaction, $"""
            CREATE SCHEMA IF NOT EXISTS {quoted};
            CREATE TABLE IF NOT EXISTS {quoted}.schema_version (
                version    integer     NOT NULL PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """, cancellationToken).ConfigureAwait(false);

        version = await ReadVersionAsync(connection, transaction, schema, cancellationToken).ConfigureAwait(false);
        ThrowIfNewer(version, schema);
        for (var next = version + 1; next <= CurrentVersion; next++)
        {
            await ExecuteAsync(connection, transaction, string.Format(System.Globalization.CultureInfo.InvariantCulture, Migrations[next - 1], quoted), cancellationToken)
                .ConfigureAwait(false);
            await ExecuteAsync(connection, transaction, $"INSERT INTO {quoted}.schema_version (version) VALUES ({next});", cancellationToken)
                .ConfigureAwait(false);
            PostgresStoreLog.LogMigrated(logger, schema, next);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return CurrentVersion;
    }

    /// <summary>The recorded schema version, 0 when the schema or its version table does not exist yet.</summary>
    public static async Task<int> ReadVersionAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema, CancellationToken cancellationToken)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL;", connection, transaction);
        exists.Parameters.Add(new NpgsqlParameter { Value = Quote(schema) + ".schema_version" });
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
        {
            return 0;
        }

        await using var read = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {Quote(schema)}.schema_version;", connection, transaction);
        return (int)(await read.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static void ThrowIfNewer(int version, string schema)
    {
        if (version > CurrentVersion)
        {
            throw new InvalidOperationException(
                $"The document store schema \"{schema}\" has version {version}, newer than this build understands ({CurrentVersion}); upgrade Collab.");
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
