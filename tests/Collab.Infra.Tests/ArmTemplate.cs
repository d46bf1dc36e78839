using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Collab.Infra.Tests;

/// <summary>
/// The ARM JSON compiled from infra/main.bicep, with each module's nested template reachable by module name and the
/// simple expressions Bicep emits for parameters and variables resolved to the values the deployment will use.
/// </summary>
internal sealed partial class ArmTemplate
{
    private ArmTemplate(JsonObject template, JsonObject? deployment, ArmTemplate? parent)
    {
        Template = template;
        Deployment = deployment;
        Parent = parent;
    }

    /// <summary>This template (the root one or a module's nested one).</summary>
    public JsonObject Template { get; }

    /// <summary>The Microsoft.Resources/deployments resource that embeds this template; null at the root.</summary>
    public JsonObject? Deployment { get; }

    private ArmTemplate? Parent { get; }

    public static ArmTemplate Parse(string json) =>
        new(JsonNode.Parse(json)?.AsObject() ?? throw new InvalidOperationException("Empty ARM template."), null, null);

    /// <summary>The resources declared directly in this template.</summary>
    public IEnumerable<JsonObject> Resources => Template["resources"] switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject symbolic => symbolic.Select(p => p.Value).OfType<JsonObject>(),
        _ => [],
    };

    /// <summary>The resources of this template of one type.</summary>
    public IEnumerable<JsonObject> ResourcesOfType(string type) =>
        Resources.Where(r => string.Equals((string?)r["type"], type, StringComparison.OrdinalIgnoreCase));

    /// <summary>The single resource of this template of one type.</summary>
    public JsonObject Single(string type)
    {
        var matches = ResourcesOfType(type).ToList();
        Assert.True(matches.Count == 1, $"Expected one {type} in {Name}, found {matches.Count}.");
        return matches[0];
    }

    /// <summary>The nested template of the module deployed under this name.</summary>
    public ArmTemplate Module(string name)
    {
        var deployment = ResourcesOfType("Microsoft.Resources/deployments")
            .SingleOrDefault(d => ModuleName(d) == name)
            ?? throw new InvalidOperationException($"No module named '{name}' in {Name}.");
        var nested = deployment["properties"]?["template"]?.AsObject()
            ?? throw new InvalidOperationException($"Module '{name}' has no nested template.");
        return new ArmTemplate(nested, deployment, this);
    }

    /// <summary>This template and every module below it.</summary>
    public IEnumerable<ArmTemplate> SelfAndModules()
    {
        yield return this;
        foreach (var deployment in ResourcesOfType("Microsoft.Resources/deployments"))
        {
            foreach (var template in Module(ModuleName(deployment)).SelfAndModules())
            {
                yield return template;
            }
        }
    }

    /// <summary>
    /// The value the deployment will use for <paramref name="value"/> when it is a plain reference to a parameter or
    /// variable (or <c>string()</c> of one), following module parameters up to the caller; other values as they are.
    /// </summary>
    public JsonNode? Resolve(JsonNode? value)
    {
        if (value is not JsonValue v || !v.TryGetValue(out string? text))
        {
            return value;
        }

        if (ParameterReference().Match(text) is { Success: true } p)
        {
            return Parameter(p.Groups["name"].Value);
        }

        if (StringOfParameter().Match(text) is { Success: true } s)
        {
            return Parameter(s.Groups["name"].Value) is JsonValue pv ? JsonValue.Create(pv.ToString()) : null;
        }

        if (VariableReference().Match(text) is { Success: true } var)
        {
            return Resolve(Template["variables"]?[var.Groups["name"].Value]?.DeepClone());
        }

        return value;
    }

    /// <summary>
    /// <paramref name="expression"/> with every <c>variables('name')</c> of a literal string variable written out, as in
    /// <c>subscriptionResourceId('…', '0a9a7e1f-…')</c>.
    /// </summary>
    public string Expand(string expression) => VariableCall().Replace(expression, m =>
        Template["variables"]?[m.Groups["name"].Value] is JsonValue v && v.TryGetValue(out string? s) && !s.StartsWith('[')
            ? $"'{s}'"
            : m.Value);

    /// <summary>The value a parameter of this template gets: what the caller passes, else its default.</summary>
    public JsonNode? Parameter(string name)
    {
        var passed = Deployment?["properties"]?["parameters"]?[name];
        if (passed is JsonObject argument && argument.ContainsKey("value"))
        {
            return Parent!.Resolve(argument["value"]?.DeepClone());
        }

        var declared = Template["parameters"]?[name]
            ?? throw new InvalidOperationException($"{Name} has no parameter '{name}'.");
        return Resolve(declared["defaultValue"]?.DeepClone());
    }

    /// <summary>The expression a caller passes for a parameter of this module, unresolved.</summary>
    public string? PassedExpression(string name) => Deployment?["properties"]?["parameters"]?[name]?["value"]?.ToString();

    private string Name => Deployment is null ? "main.json" : $"module '{ModuleName(Deployment)}'";

    private static string ModuleName(JsonObject deployment) => (string?)deployment["name"] ?? "";

    [GeneratedRegex(@"^\[parameters\('(?<name>[A-Za-z0-9_]+)'\)\]$")]
    private static partial Regex ParameterReference();

    [GeneratedRegex(@"^\[string\(parameters\('(?<name>[A-Za-z0-9_]+)'\)\)\]$")]
    private static partial Regex StringOfParameter();

    [GeneratedRegex(@"^\[variables\('(?<name>[A-Za-z0-9_]+)'\)\]$")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"variables\('(?<name>[A-Za-z0-9_]+)'\)")]
    private static partial Regex VariableCall();
}
