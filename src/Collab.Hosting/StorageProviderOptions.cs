namespace Collab.Hosting;

/// <summary>Which document store a silo uses and how it signs in, bound from <c>Collab:Storage</c>.</summary>
public sealed class StorageProviderOptions
{
    public const string Section = "Collab:Storage";

    /// <summary><c>Sqlite</c> (embedded default: one file under DataPath) or <c>Postgres</c> (clusters, cloud).</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>
    /// PostgreSQL only: <c>Password</c> (in the connection string) or <c>AzureIdentity</c> (Microsoft Entra tokens of
    /// the process's managed identity; no password anywhere).
    /// </summary>
    public PostgresAuthentication PostgresAuthentication { get; set; } = PostgresAuthentication.Password;

    /// <summary>The first problem with these settings, naming the key; null when they are usable.</summary>
    public string? Validate()
    {
        if (!Enum.IsDefined(Provider)) return $"{Section}:Provider must be Sqlite or Postgres (was '{Provider}').";
        if (!Enum.IsDefined(PostgresAuthentication))
            return $"{Section}:PostgresAuthentication must be Password or AzureIdentity (was '{PostgresAuthentication}').";
        return null;
    }
}

/// <summary>The document store implementations.</summary>
public enum StorageProvider
{
    Sqlite,
    Postgres,
}

/// <summary>How the PostgreSQL store signs in.</summary>
public enum PostgresAuthentication
{
    Password,
    AzureIdentity,
}
