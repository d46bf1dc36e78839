using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Collab.Infra.Tests;

/// <summary>
/// What azd (schema v1.0 of azure.yaml) requires of the parts of azure.yaml this repository uses, written out as checks
/// so the tests need nothing outside the repository: the top-level keys azd knows, an application name of lowercase
/// letters, digits and inner hyphens, at least one service, each with a host, and string-valued paths and names.
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

        return errors;
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
