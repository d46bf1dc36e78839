using Microsoft.Extensions.DependencyInjection;

namespace Collab.Hosting;

/// <summary>Registration of the PostgreSQL document store (arrives with the scale-out work).</summary>
internal static class PostgresStore
{
    public static void Add(IServiceCollection services) =>
        throw new NotSupportedException("Collab:Storage:Provider=Postgres is not available in this build yet; use Sqlite.");
}
