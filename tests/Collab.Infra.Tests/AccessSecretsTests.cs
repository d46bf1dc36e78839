using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Collab.Infra.Tests;

/// <summary>
/// Access control in the compiled ARM JSON: Links mode by default, and the signing and operator keys reaching the app
/// only as Key Vault references — secure parameters without defaults, written to a vault the app identity may only
/// read, never in an output, an app setting or the parameters file.
/// </summary>
public sealed class AccessSecretsTests(CompiledTemplate compiled) : IClassFixture<CompiledTemplate>
{
    private const string KeyVaultSecretsUser = "4633458b-17de-408a-b874-0445c86b69e6";

    private static readonly string[] SecureParameters = ["signingKey", "operatorKey"];

    private ArmTemplate Main => compiled.Template;

    private ArmTemplate Web => Main.Module("web");

    private ArmTemplate Vault => Main.Module("keyvault");

    private JsonObject Site => Web.Single("Microsoft.Web/sites");

    [Fact]
    public void The_deployment_runs_in_links_mode_unless_told_otherwise()
    {
        Assert.Equal("Links", AppSetting("Collab__Access__Mode"));
        var declared = Main.Template["parameters"]!["accessMode"]!;
        Assert.Equal(["Open", "Links", "Tokens"], declared["allowedValues"]!.AsArray().Select(v => (string?)v));
        Assert.Equal("${COLLAB_ACCESS_MODE=Links}", ParametersFileValue("accessMode"));
    }

    [Fact]
    public void The_signing_and_operator_keys_are_key_vault_references_resolved_with_the_app_identity()
    {
        foreach (var (setting, uriParameter, secretName) in new[]
        {
            ("Collab__Access__SigningKey", "signingKeyUri", "collab-access-signing-key"),
            ("Collab__Operations__OperatorKey", "operatorKeyUri", "collab-operator-key"),
        })
        {
            Assert.Equal($"[format('@Microsoft.KeyVault(SecretUri={{0}})', parameters('{uriParameter}'))]", AppSetting(setting));
            Assert.True(WebSocketHostingTests.IsOutputOf(Web.PassedExpression(uriParameter), "keyvault", uriParameter), Web.PassedExpression(uriParameter));

            // The URI is the versioned address of the secret: a new value changes the setting and restarts every instance.
            var output = Text(Vault.Template["outputs"]![uriParameter]!["value"]);
            Assert.EndsWith(".secretUriWithVersion]", output, StringComparison.Ordinal);
            Assert.Contains($"'{secretName}'", output, StringComparison.Ordinal);
        }

        Assert.Equal("[parameters('identityId')]", Text(Site["properties"]!["keyVaultReferenceIdentity"]));
    }

    [Fact]
    public void Each_secret_holds_its_secure_parameter_passed_straight_from_main()
    {
        foreach (var (secretName, parameter) in new[] { ("collab-access-signing-key", "signingKey"), ("collab-operator-key", "operatorKey") })
        {
            var secret = Vault.ResourcesOfType("Microsoft.KeyVault/vaults/secrets").Single(s => Text(s["name"]).Contains($"'{secretName}'", StringComparison.Ordinal));
            Assert.Equal($"[parameters('{parameter}')]", Text(secret["properties"]!["value"]));
            Assert.Equal($"[parameters('{parameter}')]", Vault.PassedExpression(parameter));
        }
    }

    [Fact]
    public void The_secure_parameters_are_securestring_without_a_default_in_main_and_in_the_vault_module()
    {
        foreach (var template in new[] { Main, Vault })
        {
            foreach (var name in SecureParameters)
            {
                var declared = template.Template["parameters"]![name]!.AsObject();
                Assert.Equal("securestring", Text(declared["type"]));
                Assert.False(declared.ContainsKey("defaultValue"), $"{name} has a default.");
            }
        }

        // Anywhere in the deployment, a secure parameter never has a literal default.
        foreach (var template in Main.SelfAndModules())
        {
            foreach (var (name, declared) in template.Template["parameters"]!.AsObject())
            {
                if (Text(declared!["type"]).StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.False(declared.AsObject().ContainsKey("defaultValue"), $"Secure parameter {name} has a default.");
                }
            }
        }
    }

    [Fact]
    public void The_parameters_file_takes_the_secrets_from_the_azd_environment_with_no_fallback_value()
    {
        Assert.Equal("${COLLAB_SIGNING_KEY}", ParametersFileValue("signingKey"));
        Assert.Equal("${COLLAB_OPERATOR_KEY}", ParametersFileValue("operatorKey"));
    }

    [Fact]
    public void The_secret_values_go_only_to_the_vault_module_and_no_output_carries_them()
    {
        // In main, the secure parameters are read in exactly one place each: the keyvault module's parameters.
        // (Main's own expressions: its parameter declarations and the modules' nested templates are left out.)
        var main = ArmTemplate.Parse(Main.Template.ToJsonString());
        main.Template.Remove("parameters");
        foreach (var deployment in main.ResourcesOfType("Microsoft.Resources/deployments"))
        {
            deployment["properties"]!.AsObject().Remove("template");
        }

        var mainText = Json(main.Template);
        foreach (var name in SecureParameters)
        {
            Assert.Equal(1, Occurrences(mainText, $"parameters('{name}')"));
        }

        Assert.DoesNotContain(Web.Deployment!["properties"]!["parameters"]!.AsObject(), p => SecureParameters.Any(s => Json(p.Value).Contains($"parameters('{s}')", StringComparison.Ordinal)));

        foreach (var template in Main.SelfAndModules())
        {
            var secure = template.Template["parameters"]!.AsObject()
                .Where(p => Text(p.Value!["type"]).StartsWith("secure", StringComparison.OrdinalIgnoreCase))
                .Select(p => p.Key)
                .ToList();
            foreach (var (name, output) in template.Template["outputs"]?.AsObject() ?? [])
            {
                var value = Text(output!["value"]);
                Assert.False(Text(output["type"]).StartsWith("secure", StringComparison.OrdinalIgnoreCase), $"Output {name} is secure-typed.");
                Assert.DoesNotContain(secure, s => value.Contains($"parameters('{s}')", StringComparison.Ordinal));
                Assert.DoesNotContain("listSecrets", value, StringComparison.OrdinalIgnoreCase);
                Assert.False(value.Contains("Microsoft.KeyVault/vaults/secrets", StringComparison.Ordinal) && !value.EndsWith(".secretUriWithVersion]", StringComparison.Ordinal),
                    $"Output {name} reads a secret for more than its address: {value}");
            }
        }
    }

    [Fact]
    public void Azd_records_the_vault_name_which_tells_the_hook_that_a_signing_key_exists_already()
    {
        var output = Main.Template["outputs"]!["AZURE_KEY_VAULT_NAME"];
        Assert.True(output is not null, "Output AZURE_KEY_VAULT_NAME is missing; infra/hooks/preprovision.sh reads it.");
        Assert.True(WebSocketHostingTests.IsOutputOf(Text(output!["value"]), "keyvault", "name"));
        Assert.Contains("AZURE_KEY_VAULT_NAME", File.ReadAllText(Path.Combine(RepoPaths.Infra, "hooks", "preprovision.sh")), StringComparison.Ordinal);
    }

    [Fact]
    public void The_vault_uses_rbac_and_grants_the_app_identity_only_secret_read()
    {
        var vault = Vault.Single("Microsoft.KeyVault/vaults");
        Assert.True(Vault.Resolve(vault["properties"]!["enableRbacAuthorization"])!.GetValue<bool>());
        Assert.False(vault["properties"]!.AsObject().ContainsKey("accessPolicies"));

        var assignment = Assert.Single(Vault.ResourcesOfType("Microsoft.Authorization/roleAssignments"));
        var role = Vault.Expand(Text(assignment["properties"]!["roleDefinitionId"]));
        Assert.Equal($"[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{KeyVaultSecretsUser}')]", role);
        Assert.Equal("[parameters('appPrincipalId')]", Text(assignment["properties"]!["principalId"]));
        Assert.Equal("ServicePrincipal", Text(assignment["properties"]!["principalType"]));
        Assert.Contains("Microsoft.KeyVault/vaults", Text(assignment["scope"]), StringComparison.Ordinal);
        Assert.True(WebSocketHostingTests.IsOutputOf(Vault.PassedExpression("appPrincipalId"), "identity", "principalId"));
        Assert.Equal("[variables('identityName')]", Vault.PassedExpression("appIdentityName"));
    }

    [Fact]
    public void The_vault_admits_only_the_app_subnet_like_the_membership_storage_account()
    {
        var acls = Vault.Single("Microsoft.KeyVault/vaults")["properties"]!["networkAcls"]!;
        Assert.Equal("[if(parameters('restrictToVnet'), 'Deny', 'Allow')]", Text(acls["defaultAction"]));
        Assert.True(Vault.Parameter("restrictToVnet")!.GetValue<bool>());
        Assert.Equal("[parameters('allowedSubnetId')]", Text(Assert.Single(acls["virtualNetworkRules"]!.AsArray())!["id"]));
        Assert.True(WebSocketHostingTests.IsOutputOf(Vault.PassedExpression("allowedSubnetId"), "network", "appSubnetId"));

        var vnet = Main.Module("network").Single("Microsoft.Network/virtualNetworks");
        var app = vnet["properties"]!["subnets"]!.AsArray().Single(s => Text(s!["name"]) == "app")!;
        Assert.Contains(app["properties"]!["serviceEndpoints"]!.AsArray(), e => Text(e!["service"]) == "Microsoft.KeyVault");
    }

    [Fact]
    public void Every_key_setting_of_the_app_is_a_key_vault_reference()
    {
        var keys = Site["properties"]!["siteConfig"]!["appSettings"]!.AsArray().OfType<JsonObject>()
            .Where(s => Text(s["name"]).EndsWith("Key", StringComparison.Ordinal))
            .ToList();
        Assert.Equal(2, keys.Count);
        Assert.All(keys, s => Assert.StartsWith("[format('@Microsoft.KeyVault(SecretUri=", Text(s["value"]), StringComparison.Ordinal));
    }

    private string AppSetting(string name)
    {
        var setting = Site["properties"]!["siteConfig"]!["appSettings"]!.AsArray().OfType<JsonObject>().SingleOrDefault(s => Text(s["name"]) == name);
        Assert.True(setting is not null, $"App setting {name} is missing.");
        return Text(Web.Resolve(setting!["value"]));
    }

    private static string? ParametersFileValue(string name)
    {
        using var file = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Infra, "main.parameters.json")));
        return file.RootElement.GetProperty("parameters").GetProperty(name).GetProperty("value").GetString();
    }

    private static int Occurrences(string text, string value)
    {
        var count = 0;
        for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + value.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    private static string Text(JsonNode? node) => node?.ToString() ?? "";

    /// <summary>The node as JSON with expressions readable (the default encoder writes ' as \u0027).</summary>
    private static string Json(JsonNode? node) =>
        node?.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) ?? "";
}
