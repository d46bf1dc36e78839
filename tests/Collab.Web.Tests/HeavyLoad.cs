using Xunit;

namespace Collab.Web.Tests;

/// <summary>
/// Tests that push hundreds of megabytes through a server and measure memory: run one at a time, so none of them
/// starves another's fsyncs or disturbs its resident-memory figures.
/// </summary>
[CollectionDefinition(Name)]
public sealed class HeavyLoad
{
    public const string Name = "heavy load";
}
