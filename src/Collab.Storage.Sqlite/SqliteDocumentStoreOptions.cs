namespace Collab.Storage.Sqlite;

/// <summary>Where and how the embedded SQLite document store keeps its file; bound from <c>Collab:Storage</c>.</summary>
public sealed class SqliteDocumentStoreOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Collab:Storage";

    /// <summary>Folder holding the database file (created when missing); relative paths resolve against the working directory (the web host resolves them against its content root first).</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Name of the database file inside <see cref="DataPath"/>.</summary>
    public string FileName { get; set; } = "collab.db";

    /// <summary>Most queued requests (appends, snapshots) written in one transaction, i.e. behind one fsync.</summary>
    public int MaxBatchRequests { get; set; } = 1024;

    /// <summary>How long a statement waits for a lock held by another connection or process before failing.</summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The most the database file may grow to, in bytes (0: no limit but the disk's). A write beyond it fails like a full
    /// disk would (the appends of that transaction are not stored, their editors get <c>internal</c> and retry); the WAL
    /// beside the file is bounded separately (64 MiB after each checkpoint).
    /// </summary>
    public long MaxSizeBytes { get; set; }

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataPath, FileName));

    /// <summary>Null when these options can work, otherwise one message naming each bad <c>Collab:Storage</c> key.</summary>
    public string? Validate()
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(DataPath))
        {
            failures.Add($"{SectionName}:{nameof(DataPath)} must name the folder for the document database (for example \"data\").");
        }
        else if (DataPath.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"{SectionName}:{nameof(DataPath)} '{DataPath}' contains characters not allowed in a path.");
        }

        if (string.IsNullOrWhiteSpace(FileName)
            || FileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || FileName is "." or "..")
        {
            failures.Add($"{SectionName}:{nameof(FileName)} '{FileName}' must be a plain file name (for example \"collab.db\").");
        }

        if (MaxBatchRequests < 1)
        {
            failures.Add($"{SectionName}:{nameof(MaxBatchRequests)} must be at least 1 (was {MaxBatchRequests}).");
        }

        if (MaxSizeBytes is < 0 or (> 0 and < 256 * 1024))
        {
            failures.Add($"{SectionName}:{nameof(MaxSizeBytes)} must be 0 (no limit) or at least 262144 (was {MaxSizeBytes}).");
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromSeconds(int.MaxValue / 1000))
        {
            failures.Add($"{SectionName}:{nameof(BusyTimeout)} must be zero or positive (was {BusyTimeout}).");
        }

        return failures.Count == 0 ? null : string.Join(" ", failures);
    }
}
