namespace Collab.Hosting;

/// <summary>Which document store a silo uses, bound from <c>Collab:Storage:Provider</c>.</summary>
public sealed class StorageProviderOptions
{
    public const string Section = "Collab:Storage";

    /// <summary><c>Sqlite</c> (embedded default: one file under DataPath) or <c>Postgres</c> (clusters, cloud).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;
}

/// <summary>The document store implementations.</summary>
public enum StorageProvider
{
    Sqlite,
    Postgres,
}
