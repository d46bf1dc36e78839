using Microsoft.Extensions.Logging;

namespace Collab.Storage.Sqlite;

/// <summary>Source-generated log messages of the SQLite store.</summary>
internal static partial class SqliteStoreLog
{
    [LoggerMessage(1, LogLevel.Information, "Document store opened at {Path} (schema version {SchemaVersion})")]
    public static partial void LogStoreOpened(ILogger logger, string path, long schemaVersion);

    [LoggerMessage(2, LogLevel.Debug, "Committed {Requests} write requests ({Ops} ops, {Failed} rejected) in one transaction in {ElapsedMs:F2} ms")]
    public static partial void LogBatchCommitted(ILogger logger, int requests, int ops, int failed, double elapsedMs);

    [LoggerMessage(3, LogLevel.Warning, "Append to document {DocumentId} rejected: it expected stored revision {ExpectedRev} but the store is at {StoredRev}")]
    public static partial void LogAppendConflict(ILogger logger, string documentId, long expectedRev, long storedRev);

    [LoggerMessage(9, LogLevel.Warning, "Append to document {DocumentId} rejected: it came from writer epoch {WriterEpoch} but the document's writer is epoch {StoredEpoch}")]
    public static partial void LogAppendFenced(ILogger logger, string documentId, long writerEpoch, long storedEpoch);

    [LoggerMessage(4, LogLevel.Error, "Write transaction of {Requests} requests failed; none of them was stored")]
    public static partial void LogBatchFailed(ILogger logger, Exception exception, int requests);

    [LoggerMessage(5, LogLevel.Warning, "Write request for document {DocumentId} failed and was rolled back")]
    public static partial void LogRequestFailed(ILogger logger, Exception exception, string documentId);

    [LoggerMessage(6, LogLevel.Critical, "The document store writer stopped unexpectedly; no further writes are possible")]
    public static partial void LogWriterCrashed(ILogger logger, Exception exception);

    [LoggerMessage(8, LogLevel.Debug, "Returning free pages after a compaction failed; they stay free for reuse")]
    public static partial void LogVacuumFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Information, "Document store at {Path} closed after {Transactions} write transactions")]
    public static partial void LogStoreClosed(ILogger logger, string path, long transactions);
}
