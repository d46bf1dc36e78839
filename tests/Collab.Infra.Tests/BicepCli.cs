using System.Diagnostics;

namespace Collab.Infra.Tests;

/// <summary>Runs the Bicep CLI from the NuGet package. Everything it does here is offline.</summary>
internal static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    /// <summary>The result of one run: exit code and every line written to stdout and stderr.</summary>
    public sealed record Result(int ExitCode, IReadOnlyList<string> Lines)
    {
        /// <summary>
        /// Lines that report a compiler or linter diagnostic. Bicep exits 0 on warnings, so the exit code alone would
        /// let them through; CI must fail on any of them.
        /// </summary>
        public IReadOnlyList<string> Diagnostics =>
            Lines.Where(l => l.Contains("Warning", StringComparison.Ordinal) || l.Contains("Error", StringComparison.Ordinal)).ToList();

        public override string ToString() => $"exit code {ExitCode}:{Environment.NewLine}{string.Join(Environment.NewLine, Lines)}";
    }

    public static async Task<Result> RunAsync(params string[] args)
    {
        EnsureExecutable(RepoPaths.Bicep);
        var start = new ProcessStartInfo(RepoPaths.Bicep)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {RepoPaths.Bicep}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', args)} did not finish within {Timeout}.");
        }

        var lines = (await stdout + await stderr)
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new Result(process.ExitCode, lines);
    }

    private static void EnsureExecutable(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The Bicep CLI is not at {path}; restore tests/Collab.Infra.Tests (PackageDownload Azure.Bicep.CommandLine.linux-x64).", path);
        }

        // NuGet does not always keep the execute bit of package content.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & UnixFileMode.UserExecute) == 0)
            {
                File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
            }
        }
    }
}
