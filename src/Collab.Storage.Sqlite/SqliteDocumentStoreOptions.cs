using Microsoft.Extensions.Options;

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

    /// <summary>The absolute path of the database file.</summary>
    public string DatabasePath => Path.GetFullPath(Path.Combine(DataPath, FileName));
}

/// <summary>Fails start-up with a message naming the setting when <see cref="SqliteDocumentStoreOptions"/> cannot work.</summary>
public sealed class SqliteDocumentStoreOptionsValidator : IValidateOptions<SqliteDocumentStoreOptions>
{
    private const string Prefix = SqliteDocumentStoreOptions.SectionName + ":";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteDocumentStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataPath))
        {
            failures.Add($"{Prefix}{nameof(options.DataPath)} must name the folder for the document database (for example \"data\").");
        }
        else if (options.DataPath.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"{Prefix}{nameof(options.DataPath)} '{options.DataPath}' contains characters not allowed in a path.");
        }

        if (string.IsNullOrWhiteSpace(options.FileName)
            || options.FileName.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0
            || options.FileName is "." or "..")
        {
            failures.Add($"{Prefix}{nameof(options.FileName)} '{options.FileName}' must be a plain file name (for example \"collab.db\").");
        }

        if (options.MaxBatchRequests < 1)
        {
            failures.Add($"{Prefix}{nameof(options.MaxBatchRequests)} must be at least 1 (was {options.MaxBatchRequests}).");
        }

        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > TimeSpan.FromSeconds(int.MaxValue / 1000))
        {
            failures.Add($"{Prefix}{nameof(options.BusyTimeout)} must be zero or positive (was {options.BusyTimeout}).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
