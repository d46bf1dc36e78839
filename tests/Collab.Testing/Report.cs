namespace Collab.Testing;

/// <summary>
/// Measured figures a test wants in the run's output (dotnet test shows a passing test's own output only at high
/// verbosity): appended to TestResults/figures.txt at the repository root, which ./test.sh prints at the end.
/// </summary>
public static class Report
{
    private static readonly Lock Gate = new();

    public static string FilePath { get; } = Path.Combine(RepoPaths.Root, "TestResults", "figures.txt");

    public static void Figure(string test, string line)
    {
        lock (Gate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
            File.AppendAllText(FilePath, $"{test}: {line}{Environment.NewLine}");
        }
    }
}
