namespace Collab.Infra.Tests;

/// <summary>Compiles infra/main.bicep once, into a temporary folder, for every test that reads the ARM JSON.</summary>
public sealed class CompiledTemplate : IAsyncLifetime
{
    private readonly string outDir = Path.Combine(Path.GetTempPath(), "collab-infra-tests", Guid.NewGuid().ToString("N"));
    private ArmTemplate? template;

    internal BicepCli.Result? Build { get; private set; }

    /// <summary>The compiled template; fails the calling test with the compiler's output when the build failed.</summary>
    internal ArmTemplate Template => template
        ?? throw new InvalidOperationException($"bicep build infra/main.bicep failed: {Build}");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(outDir);
        Build = await BicepCli.RunAsync("build", Path.Combine(RepoPaths.Infra, "main.bicep"), "--outdir", outDir);
        var json = Path.Combine(outDir, "main.json");
        if (Build.ExitCode == 0 && File.Exists(json))
        {
            template = ArmTemplate.Parse(await File.ReadAllTextAsync(json));
        }
    }

    public Task DisposeAsync()
    {
        Directory.Delete(outDir, recursive: true);
        return Task.CompletedTask;
    }
}
