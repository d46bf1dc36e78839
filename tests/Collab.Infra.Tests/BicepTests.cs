using Xunit.Abstractions;

namespace Collab.Infra.Tests;

/// <summary>
/// The infra compiles and lints with zero diagnostics. Bicep exits 0 on warnings, so every line of its output that
/// says Warning or Error fails the test; infra/bicepconfig.json raises the linter rules to error level.
/// </summary>
public sealed class BicepTests(CompiledTemplate compiled, ITestOutputHelper output) : IClassFixture<CompiledTemplate>
{
    public static TheoryData<string> BicepFiles() => new(RepoPaths.BicepFiles());

    [Fact]
    public void Main_template_builds_without_any_warning_or_error()
    {
        var build = compiled.Build!;
        output.WriteLine(build.ToString());
        Assert.Equal(0, build.ExitCode);
        Assert.Empty(build.Diagnostics);
        _ = compiled.Template;
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Every_bicep_file_lints_without_any_finding(string file)
    {
        var lint = await BicepCli.RunAsync("lint", Path.Combine(RepoPaths.Infra, file));
        output.WriteLine(lint.ToString());
        Assert.Equal(0, lint.ExitCode);
        Assert.Empty(lint.Diagnostics);
    }

    [Fact]
    public void The_infra_has_main_and_a_module_per_concern()
    {
        Assert.Equal(
            ["main.bicep", "modules/appservice.bicep", "modules/identity.bicep", "modules/keyvault.bicep", "modules/monitoring.bicep",
             "modules/network.bicep", "modules/postgres.bicep", "modules/storage.bicep"],
            RepoPaths.BicepFiles());
    }

    [Fact]
    public async Task Bicepconfig_turns_a_linter_finding_into_an_error()
    {
        using var scratch = new ScratchInfra();
        var file = scratch.Write("unused.bicep", "param unused string\n");

        var lint = await BicepCli.RunAsync("lint", file);

        output.WriteLine(lint.ToString());
        Assert.NotEqual(0, lint.ExitCode);
        Assert.Contains(lint.Diagnostics, l => l.Contains("Error no-unused-params", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_misspelt_property_is_a_warning_that_the_tests_catch_although_bicep_exits_zero()
    {
        using var scratch = new ScratchInfra();
        var file = scratch.Write("typo.bicep", """
            param location string

            resource site 'Microsoft.Web/sites@2024-11-01' = {
              name: 'typo'
              location: location
              properties: {
                siteConfig: {
                  webSocketEnabled: true
                }
              }
            }
            """);

        var build = await BicepCli.RunAsync("build", file, "--stdout");

        output.WriteLine(build.ToString());
        Assert.Equal(0, build.ExitCode);
        Assert.Contains(build.Diagnostics, l => l.Contains("Warning BCP", StringComparison.Ordinal) && l.Contains("webSocketEnabled", StringComparison.Ordinal));
    }

    /// <summary>A temporary folder holding a copy of infra/bicepconfig.json, for files that must fail.</summary>
    private sealed class ScratchInfra : IDisposable
    {
        private readonly string dir = Path.Combine(Path.GetTempPath(), "collab-infra-tests", Guid.NewGuid().ToString("N"));

        public ScratchInfra()
        {
            Directory.CreateDirectory(dir);
            File.Copy(Path.Combine(RepoPaths.Infra, "bicepconfig.json"), Path.Combine(dir, "bicepconfig.json"));
        }

        public string Write(string name, string content)
        {
            var path = Path.Combine(dir, name);
            File.WriteAllText(path, content);
            return path;
        }

        public void Dispose() => Directory.Delete(dir, recursive: true);
    }
}
