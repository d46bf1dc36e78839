using System.Net;
using System.Net.Sockets;

namespace Collab.Testing;

/// <summary>Where the repository and the build outputs of its hosts are, and free loopback ports.</summary>
public static class RepoPaths
{
    /// <summary>The folder holding Collab.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release, whichever the running tests were built as.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Contains("Release") ? "Release" : "Debug";

    /// <summary>The build output folder of a host project (src/&lt;project&gt;/bin/&lt;configuration&gt;/net10.0), which must hold its dll.</summary>
    public static string BuildOutput(string project)
    {
        var bin = Path.Combine(Root, "src", project, "bin", Configuration, "net10.0");
        if (!File.Exists(Path.Combine(bin, project + ".dll")))
            throw new InvalidOperationException($"build src/{project} first: {bin}/{project}.dll is missing");
        return bin;
    }

    /// <summary>A TCP port free on 127.0.0.1 right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> (a server started by a test is up).</summary>
    public static async Task<bool> AcceptsConnectionsAsync(int port)
    {
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Collab.sln"))) return dir.FullName;
        throw new InvalidOperationException("Collab.sln not found above " + AppContext.BaseDirectory);
    }
}
