using System.Text.Json;
using System.Text.Json.Nodes;

namespace Collab.Infra.Tests;

/// <summary>azure.yaml is valid for azd (the rules of its v1.0 schema) and points at the right project and infra.</summary>
public sealed class AzureYamlTests
{
    private static JsonNode AzureYaml => YamlJson.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "azure.yaml")))
        ?? throw new InvalidOperationException("azure.yaml is empty.");

    [Fact]
    public void Azure_yaml_follows_azds_rules()
    {
        var errors = AzureYamlRules.Check(AzureYaml);
        Assert.True(errors.Count == 0, string.Join(Environment.NewLine, errors));
    }

    [Fact]
    public void The_schema_check_rejects_an_azure_yaml_that_azd_would_refuse()
    {
        // Without a host azd cannot deploy a service; a validator that let this through would prove nothing.
        var noHost = AzureYaml.DeepClone();
        noHost["services"]!["web"]!.AsObject().Remove("host");
        Assert.Equal(["services.web.host is required."], AzureYamlRules.Check(noHost));

        var badName = AzureYaml.DeepClone();
        badName["name"] = "Collab_App";
        Assert.Single(AzureYamlRules.Check(badName), e => e.StartsWith("name 'Collab_App'", StringComparison.Ordinal));

        var unknownKey = AzureYaml.DeepClone();
        unknownKey["service"] = new JsonObject();
        Assert.Equal(["'service' is not a key azd knows."], AzureYamlRules.Check(unknownKey));

        var noServices = AzureYaml.DeepClone();
        noServices["services"] = new JsonObject();
        Assert.Single(AzureYamlRules.Check(noServices));

        var listHost = AzureYaml.DeepClone();
        listHost["services"]!["web"]!["host"] = new JsonArray("appservice");
        Assert.Equal(["services.web.host must be a string."], AzureYamlRules.Check(listHost));
    }

    [Fact]
    public void The_hook_check_rejects_hooks_that_azd_would_refuse()
    {
        var unknownHook = AzureYaml.DeepClone();
        unknownHook["hooks"]!["beforeprovision"] = new JsonObject { ["run"] = "./x.sh" };
        Assert.Equal(["hooks.beforeprovision is not a hook azd runs."], AzureYamlRules.Check(unknownHook));

        var badShell = AzureYaml.DeepClone();
        badShell["hooks"]!["preprovision"]!["shell"] = "bash";
        Assert.Equal(["hooks.preprovision.shell 'bash' is not one of sh, pwsh."], AzureYamlRules.Check(badShell));

        var noRun = AzureYaml.DeepClone();
        noRun["hooks"]!["preprovision"]!.AsObject().Remove("run");
        Assert.Equal(["hooks.preprovision.run is required."], AzureYamlRules.Check(noRun));

        var inlineWithoutShell = AzureYaml.DeepClone();
        inlineWithoutShell["hooks"]!["preprovision"] = new JsonObject { ["run"] = "echo hello" };
        Assert.Equal(["hooks.preprovision.shell is required for an inline script."], AzureYamlRules.Check(inlineWithoutShell));

        var unknownSetting = AzureYaml.DeepClone();
        unknownSetting["hooks"]!["preprovision"]!["script"] = "./x.sh";
        Assert.Equal(["hooks.preprovision.script is not a hook setting azd knows."], AzureYamlRules.Check(unknownSetting));

        var badFlag = AzureYaml.DeepClone();
        badFlag["hooks"]!["preprovision"]!["continueOnError"] = "yes";
        Assert.Equal(["hooks.preprovision.continueOnError must be true or false."], AzureYamlRules.Check(badFlag));

        var posixOnly = AzureYaml.DeepClone();
        posixOnly["hooks"]!["preprovision"] = new JsonObject { ["posix"] = new JsonObject { ["shell"] = "sh", ["run"] = "./x.sh" } };
        Assert.Empty(AzureYamlRules.Check(posixOnly));
        posixOnly["hooks"]!["preprovision"]!["posix"]!["shell"] = "zsh";
        Assert.Equal(["hooks.preprovision.posix.shell 'zsh' is not one of sh, pwsh."], AzureYamlRules.Check(posixOnly));
    }

    [Fact]
    public void Provisioning_first_runs_the_hook_that_generates_the_keys()
    {
        var hook = AzureYaml["hooks"]!["preprovision"]!;
        Assert.Equal("sh", (string?)hook["shell"]);
        var run = (string)hook["run"]!;
        Assert.Equal("./infra/hooks/preprovision.sh", run);
        var script = Path.GetFullPath(Path.Combine(RepoPaths.Root, run));
        Assert.True(File.Exists(script), $"{script} does not exist.");
        Assert.StartsWith("#!/bin/sh\n", File.ReadAllText(script), StringComparison.Ordinal);
        Assert.False(Bool(hook["continueOnError"]), "A failed hook must stop the provision: the keys would be missing or regenerated.");
    }

    [Fact]
    public void The_web_service_deploys_the_web_project_to_app_service()
    {
        var web = AzureYaml["services"]!["web"]!;
        Assert.Equal("appservice", (string?)web["host"]);
        Assert.Equal("dotnet", (string?)web["language"]);
        var project = Path.GetFullPath(Path.Combine(RepoPaths.Root, (string)web["project"]!));
        Assert.True(File.Exists(Path.Combine(project, "Collab.Web.csproj")), $"{project} holds no Collab.Web.csproj.");
    }

    [Fact]
    public void Infra_is_bicep_in_the_infra_folder()
    {
        var infra = AzureYaml["infra"]!;
        Assert.Equal("bicep", (string?)infra["provider"]);
        Assert.Equal("infra", (string?)infra["path"]);
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, (string)infra["path"]!, $"{(string?)infra["module"] ?? "main"}.bicep")));
    }

    [Fact]
    public void Parameters_file_maps_azds_variables_onto_main_bicep()
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Infra, "main.parameters.json")));
        var parameters = file.RootElement.GetProperty("parameters");
        Assert.Equal("${AZURE_ENV_NAME}", parameters.GetProperty("environmentName").GetProperty("value").GetString());
        Assert.Equal("${AZURE_LOCATION}", parameters.GetProperty("location").GetProperty("value").GetString());
        Assert.Equal("${AZURE_PRINCIPAL_ID}", parameters.GetProperty("principalId").GetProperty("value").GetString());

        var declared = ParametersOfMainBicep();
        foreach (var parameter in parameters.EnumerateObject())
        {
            Assert.True(declared.ContainsKey(parameter.Name), $"main.parameters.json sets '{parameter.Name}', which main.bicep does not declare.");
        }

        foreach (var (name, hasDefault) in declared)
        {
            Assert.True(hasDefault || parameters.TryGetProperty(name, out _), $"main.bicep parameter '{name}' has no default and no value in main.parameters.json.");
        }
    }

    [Fact]
    public void The_health_check_path_is_one_the_app_serves()
    {
        // Anywhere under src/: the health endpoints may live in a hosting library shared by the web and silo hosts.
        var sources = Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "src"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal));
        Assert.Contains(sources, f => File.ReadAllText(f).Contains("\"/readyz\"", StringComparison.Ordinal));
    }

    private static bool Bool(JsonNode? node) => node is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    private static Dictionary<string, bool> ParametersOfMainBicep()
    {
        // Declared parameters and whether they have a default, read from main.bicep's `param name type [= default]` lines.
        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(RepoPaths.Infra, "main.bicep")))
        {
            if (line.StartsWith("param ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
                result[parts[1]] = line.Contains(" = ", StringComparison.Ordinal);
            }
        }

        return result;
    }
}
