using System.Reflection;

namespace Collab.Infra.Tests;

/// <summary>Where the repository, its infra, and the Bicep CLI are on this machine.</summary>
internal static class RepoPaths
{
    /// <summary>The repository root: the nearest folder above the test binaries that holds Collab.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The infra/ folder azure.yaml points at.</summary>
    public static string Infra => Path.Combine(Root, "infra");

    /// <summary>
    /// The Bicep CLI restored by the PackageDownload in the project file; the path is baked in at build time because
    /// only MSBuild knows the NuGet packages folder.
    /// </summary>
    public static string Bicep { get; } = typeof(RepoPaths).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value
        ?? throw new InvalidOperationException("The BicepPath assembly metadata is missing from the test project.");

    /// <summary>Every .bicep file under infra/, relative to infra/.</summary>
    public static IEnumerable<string> BicepFiles() =>
        Directory.EnumerateFiles(Infra, "*.bicep", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Infra, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Collab.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No Collab.sln above {AppContext.BaseDirectory}.");
    }
}
