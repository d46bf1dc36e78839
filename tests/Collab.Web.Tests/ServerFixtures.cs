using Xunit;

namespace Collab.Web.Tests;

/// <summary>One server with default settings, shared by a test class (documents are unique per test).</summary>
public sealed class DefaultServer : IAsyncLifetime
{
    public CollabServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await CollabServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>A server with small limits, so each limit can be hit quickly.</summary>
public sealed class LimitedServer : IAsyncLifetime
{
    public const int MaxMessageBytes = 4096;
    public const int Burst = 5;

    public CollabServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await CollabServer.StartAsync(new Dictionary<string, string>
    {
        ["Collab:FrontEnd:MaxMessageBytes"] = MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Collab:FrontEnd:MessagesPerSecond"] = "2",
        ["Collab:FrontEnd:MessageBurst"] = Burst.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Collab:Documents:WindowSize"] = "4",
    });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
