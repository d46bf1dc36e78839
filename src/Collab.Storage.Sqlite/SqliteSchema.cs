using Microsoft.Data.Sqlite;

namespace Collab.Storage.Sqlite;

/// <summary>Connection settings and the versioned schema (PRAGMA user_version) of the SQLite store.</summary>
internal static class SqliteSchema
{
    /// <summary>The schema version this code writes; a file with a newer version is refused.</summary>
    public const long CurrentVersion = 5;

    // Each entry upgrades the schema from version (index) to (index + 1); append, never edit.
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS ops (
            doc          TEXT    NOT NULL,
            rev          INTEGER NOT NULL,
            client_id    TEXT    NOT NULL,
            seq          INTEGER NOT NULL,
            op           TEXT    NOT NULL,
            committed_at INTEGER NOT NULL,
            PRIMARY KEY (doc, rev)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS snapshots (
            doc     TEXT    NOT NULL PRIMARY KEY,
            rev     INTEGER NOT NULL,
            text    TEXT    NOT NULL,
            clients TEXT    NOT NULL
        ) WITHOUT ROWID;
        """,
        """
        CREATE TABLE IF NOT EXISTS access (
            doc        TEXT    NOT NULL PRIMARY KEY,
            owner_gen  INTEGER NOT NULL,
            edit_gen   INTEGER NOT NULL,
            view_gen   INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS revocations (
            kind       TEXT    NOT NULL,
            value      TEXT    NOT NULL,
            revoked_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            PRIMARY KEY (kind, value)
        ) WITHOUT ROWID;
        """,
        """
        CREATE TABLE IF NOT EXISTS owned (
            owner      TEXT    NOT NULL,
            doc        TEXT    NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (owner, doc)
        ) WITHOUT ROWID;
        """,
        // History checkpoints: full texts at chosen revisions (a rowid table: texts are large rows).
        """
        CREATE TABLE IF NOT EXISTS checkpoints (
            doc      TEXT    NOT NULL,
            rev      INTEGER NOT NULL,
            text     TEXT    NOT NULL,
            saved_at INTEGER NOT NULL,
            PRIMARY KEY (doc, rev)
        );
        """,
        // The writer epoch per document: appends carrying an older one are refused (a replaced activation never writes again).
        """
        CREATE TABLE IF NOT EXISTS writers (
            doc   TEXT    NOT NULL PRIMARY KEY,
            epoch INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
    ];

    public static string WriterConnectionString(string path, TimeSpan busyTimeout) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        Cache = SqliteCacheMode.Private,
        // The writer connection lives as long as the store; a pool would only keep the file open after dispose.
        Pooling = false,
        DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
    }.ToString();

    public static string ReaderConnectionString(string path, TimeSpan busyTimeout) => new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadOnly,
        Cache = SqliteCacheMode.Private,
        Pooling = true,
        DefaultTimeout = (int)Math.Ceiling(busyTimeout.TotalSeconds),
    }.ToString();

    /// <summary>The WAL file is cut back to this size after a checkpoint, so one large transaction does not keep it large.</summary>
    public const long JournalSizeLimit = 64L * 1024 * 1024;

    /// <summary>Sets the per-connection durability settings of the writer and brings the schema up to date.</summary>
    /// <returns>The schema version of the file.</returns>
    public static long Initialize(SqliteConnection writer, TimeSpan busyTimeout, long maxSizeBytes)
    {
        // Free pages go back to the file system at each compaction (PRAGMA incremental_vacuum). It takes effect only on a
        // file without tables yet: files created by an older build reuse their free pages instead (VACUUM converts them).
        Execute(writer, "PRAGMA auto_vacuum=INCREMENTAL;");

        // WAL: readers never block the writer and a commit is one append + fsync of the log.
        var journalMode = (string?)Scalar(writer, "PRAGMA journal_mode=WAL;");
        if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The document database could not switch to WAL journal mode (it reports '{journalMode}').");
        }

        // FULL: the WAL is fsynced at every commit, so a completed append survives power loss, not only a process crash.
        Execute(writer, $"""
            PRAGMA synchronous=FULL;
            PRAGMA busy_timeout={(long)busyTimeout.TotalMilliseconds};
            PRAGMA foreign_keys=OFF;
            PRAGMA journal_size_limit={JournalSizeLimit};
            """);
        if (maxSizeBytes > 0)
        {
            // The file's ceiling: a write that would grow it beyond fails with SQLITE_FULL (a failed append), never corrupts.
            var pageSize = (long)Scalar(writer, "PRAGMA page_size;")!;
            Execute(writer, $"PRAGMA max_page_count={Math.Max(1, maxSizeBytes / pageSize)};");
        }

        Execute(writer, "BEGIN IMMEDIATE;");
        try
        {
            var version = (long)Scalar(writer, "PRAGMA user_version;")!;
            if (version > CurrentVersion)
            {
                throw new InvalidOperationException(
                    $"The document database has schema version {version}, newer than this build understands ({CurrentVersion}).");
            }

            for (; version < CurrentVersion; version++)
            {
                Execute(writer, Migrations[version]);
                Execute(writer, $"PRAGMA user_version={version + 1};");
            }

            Execute(writer, "COMMIT;");
            return version;
        }
        catch
        {
            Execute(writer, "ROLLBACK;");
            throw;
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
