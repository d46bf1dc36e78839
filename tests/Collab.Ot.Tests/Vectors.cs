using System.Collections.Concurrent;
using System.Text.Json;
using Xunit;

namespace Collab.Ot.Tests;

/// <summary>Loads tests/vectors/*.json from the repository (found by walking up to the folder holding Collab.sln).</summary>
internal static class Vectors
{
    private static readonly Lazy<string> Folder = new(FindFolder);
    private static readonly ConcurrentDictionary<string, JsonElement[]> Files = new();

    public static TheoryData<string> Names(string file)
    {
        var names = new TheoryData<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (JsonElement c in Load(file))
        {
            string name = c.GetProperty("name").GetString()!;
            if (!seen.Add(name))
            {
                throw new InvalidOperationException($"{file}: duplicate case name \"{name}\"");
            }

            names.Add(name);
        }

        return names;
    }

    public static JsonElement Case(string file, string name)
    {
        foreach (JsonElement c in Load(file))
        {
            if (c.GetProperty("name").GetString() == name)
            {
                return c;
            }
        }

        throw new InvalidOperationException($"{file}: no case named \"{name}\"");
    }

    private static JsonElement[] Load(string file) => Files.GetOrAdd(file, static f =>
    {
        using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Folder.Value, f)));
        JsonElement[] cases = [.. document.RootElement.EnumerateArray().Select(c => c.Clone())];
        return cases.Length > 0 ? cases : throw new InvalidOperationException($"{f} has no cases");
    });

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Collab.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "vectors");
            }
        }

        throw new DirectoryNotFoundException($"no folder containing Collab.sln above {AppContext.BaseDirectory}");
    }
}
