using Microsoft.Extensions.Logging;

namespace Collab.Storage.Postgres;

/// <summary>Source-generated log messages of the PostgreSQL store.</summary>
internal static partial class PostgresStoreLog
{
    [LoggerMessage(1, LogLevel.Information, "PostgreSQL document store ready on {Host}/{Database}, schema {Schema} (version {SchemaVersion})")]
    public static partial void LogStoreReady(ILogger logger, string? host, string? database, string schema, int schemaVersion);

    [LoggerMessage(2, LogLevel.Information, "Migrated document store schema {Schema} to version {Version}")]
    public static partial void LogMigrated(ILogger logger, string schema, int version);

    [LoggerMessage(3, LogLevel.Warning, "Append to document {DocumentId} rejected: it expected stored revision {ExpectedRev} but the store is at {StoredRev}")]
    public static partial void LogAppendConflict(ILogger logger, string documentId, long expectedRev, long storedRev);

    [LoggerMessage(4, LogLevel.Warning,
        "The database runs with synchronous_commit = {Setting}: an acknowledged edit can be lost if the database server crashes. Set it to 'on' (or stronger) for Collab's role or database")]
    public static partial void LogWeakDurability(ILogger logger, string setting);

    [LoggerMessage(6, LogLevel.Warning, "Append to document {DocumentId} rejected: it came from writer epoch {WriterEpoch} but the document's writer is epoch {StoredEpoch}")]
    public static partial void LogAppendFenced(ILogger logger, string documentId, long writerEpoch, long storedEpoch);

    [LoggerMessage(5, LogLevel.Information, "PostgreSQL document store for schema {Schema} closed")]
    public static partial void LogStoreClosed(ILogger logger, string schema);
}
