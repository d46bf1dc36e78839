using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Collab.Infra.Tests;

/// <summary>
/// What azd (schema v1.0 of azure.yaml) requires of the parts of azure.yaml this repository uses, written out as checks
/// so the tests need nothing outside the repository: the top-level keys azd knows, an application name of lowercase
/// letters, digits and inner hyphens, at least one service, each with a host, string-valued paths and names, and command
/// hooks azd knows with a shell it runs.
/// </summary>
internal static partial class AzureYamlRules
{
    /// <summary>The top-level keys of azd's azure.yaml (anything else is refused).</summary>
    private static readonly string[] TopLevelKeys =
        ["name", "resourceGroup", "metadata", "infra", "services", "resources", "pipeline", "hooks", "requiredVersions", "state", "platform", "workflows", "cloud"];

    /// <summary>Service hosts azd deploys to without an extension.</summary>
    public static readonly string[] Hosts = ["appservice", "containerapp", "function", "springapp", "staticwebapp", "aks"];

    /// <summary>Service languages azd builds.</summary>
    public static readonly string[] Languages = ["dotnet", "csharp", "fsharp", "py", "python", "js", "ts", "java", "go", "golang", "docker"];

    /// <summary>Command hooks azd runs at the root of azure.yaml (pre and post of each command).</summary>
    public static readonly string[] Hooks =
        ["prerestore", "postrestore", "preprovision", "postprovision", "prepackage", "postpackage", "predeploy", "postdeploy",
         "prepublish", "postpublish", "preup", "postup", "predown", "postdown"];

    /// <summary>Keys of one hook's configuration.</summary>
    private static readonly string[] HookKeys = ["shell", "run", "continueOnError", "interactive", "windows", "posix"];

    /// <summary>Shells azd runs hooks with.</summary>
    private static readonly string[] Shells = ["sh", "pwsh"];

    /// <summary>Every rule the document breaks, as messages naming the key; empty when azd would accept it.</summary>
    public static List<string> Check(JsonNode document)
    {
        var errors = new List<string>();
        if (document is not JsonObject root)
        {
            errors.Add("azure.yaml must be a mapping.");
            return errors;
        }

        foreach (var (key, _) in root)
        {
            if (!TopLevelKeys.Contains(key, StringComparer.Ordinal)) errors.Add($"'{key}' is not a key azd knows.");
        }

        if (String(root, "name", errors, required: true) is { } name && (name.Length < 2 || !Name().IsMatch(name)))
            errors.Add($"name '{name}' must be at least 2 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit.");

        if (root["metadata"] is { } metadata)
        {
            if (metadata is not JsonObject metadataObject) errors.Add("metadata must be a mapping.");
            else String(metadataObject, "template", errors, required: false, path: "metadata");
        }

        if (root["infra"] is { } infra)
        {
            if (infra is not JsonObject infraObject) errors.Add("infra must be a mapping.");
            else
            {
                if (String(infraObject, "provider", errors, required: false, path: "infra") is { } provider && !Provider().IsMatch(provider))
                    errors.Add($"infra.provider '{provider}' must be lowercase letters, digits and dots (bicep, terraform).");
                String(infraObject, "path", errors, required: false, path: "infra");
                String(infraObject, "module", errors, required: false, path: "infra");
            }
        }

        if (root["services"] is { } services)
        {
            if (services is not JsonObject serviceMap || serviceMap.Count == 0) errors.Add("services must be a mapping with at least one service.");
            else
            {
                foreach (var (serviceName, service) in serviceMap)
                {
                    var path = $"services.{serviceName}";
                    if (service is not JsonObject serviceObject)
                    {
                        errors.Add($"{path} must be a mapping.");
                        continue;
                    }

                    if (String(serviceObject, "host", errors, required: true, path) is { } host && !Hosts.Contains(host, StringComparer.Ordinal))
                        errors.Add($"{path}.host '{host}' is not one of {string.Join(", ", Hosts)}.");
                    if (String(serviceObject, "language", errors, required: false, path) is { } language && !Languages.Contains(language, StringComparer.Ordinal))
                        errors.Add($"{path}.language '{language}' is not one of {string.Join(", ", Languages)}.");
                    String(serviceObject, "project", errors, required: false, path);
                }
            }
        }

        if (root["hooks"] is { } hooks)
        {
            if (hooks is not JsonObject hookMap) errors.Add("hooks must be a mapping.");
            else
            {
                foreach (var (hookName, hook) in hookMap)
                {
                    if (!Hooks.Contains(hookName, StringComparer.Ordinal)) errors.Add($"hooks.{hookName} is not a hook azd runs.");
                    else CheckHook(hook, $"hooks.{hookName}", errors, osSpecific: true);
                }
            }
        }

        return errors;
    }

    /// <summary>
    /// One hook: a mapping of shell (sh or pwsh), run (a script path or inline script, required unless only windows or
    /// posix variants are given), continueOnError and interactive (booleans), and optional windows / posix variants of
    /// the same shape. An inline script needs an explicit shell; azd infers it only from a file's extension.
    /// </summary>
    private static void CheckHook(JsonNode? hook, string path, List<string> errors, bool osSpecific)
    {
        if (hook is not JsonObject config)
        {
            errors.Add($"{path} must be a mapping.");
            return;
        }

        foreach (var (key, _) in config)
        {
            if (!HookKeys.Contains(key, StringComparer.Ordinal) || (!osSpecific && key is "windows" or "posix"))
                errors.Add($"{path}.{key} is not a hook setting azd knows.");
        }

        var variants = osSpecific && (config.ContainsKey("windows") || config.ContainsKey("posix"));
        var run = String(config, "run", errors, required: !variants, path);
        var shell = String(config, "shell", errors, required: false, path);
        if (shell is not null && !Shells.Contains(shell, StringComparer.Ordinal))
            errors.Add($"{path}.shell '{shell}' is not one of {string.Join(", ", Shells)}.");
        if (run is not null && shell is null && !run.EndsWith(".sh", StringComparison.Ordinal) && !run.EndsWith(".ps1", StringComparison.Ordinal))
            errors.Add($"{path}.shell is required for an inline script.");
        foreach (var flag in new[] { "continueOnError", "interactive" })
        {
            if (config[flag] is { } value && (value is not JsonValue v || !v.TryGetValue<bool>(out _)))
                errors.Add($"{path}.{flag} must be true or false.");
        }

        if (osSpecific)
        {
            foreach (var os in new[] { "windows", "posix" })
            {
                if (config.ContainsKey(os)) CheckHook(config[os], $"{path}.{os}", errors, osSpecific: false);
            }
        }
    }

    private static string? String(JsonObject parent, string key, List<string> errors, bool required, string? path = null)
    {
        var name = path is null ? key : $"{path}.{key}";
        switch (parent[key])
        {
            case null when required:
                errors.Add($"{name} is required.");
                return null;
            case null:
                return null;
            case JsonValue value when value.TryGetValue<string>(out var text):
                return text;
            default:
                errors.Add($"{name} must be a string.");
                return null;
        }
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Name();

    [GeneratedRegex("^[a-z0-9.]+$")]
    private static partial Regex Provider();
}
