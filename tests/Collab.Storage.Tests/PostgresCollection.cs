using Collab.Testing;
using Xunit;

namespace Collab.Storage.Tests;

/// <summary>Every PostgreSQL test class shares one server; each test uses its own schema in it.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL server";
}
