using System.Text.Json.Nodes;

namespace Collab.Infra.Tests;

/// <summary>Managed identity everywhere, Entra-only data planes, azd tags and outputs, in the compiled ARM JSON.</summary>
public sealed class BackingServicesTests(CompiledTemplate compiled) : IClassFixture<CompiledTemplate>
{
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";

    [Fact]
    public void The_app_identity_holds_storage_table_data_contributor_on_the_membership_account()
    {
        var storage = compiled.Template.Module("storage");
        var assignment = storage.ResourcesOfType("Microsoft.Authorization/roleAssignments")
            .Single(r => storage.Expand(Text(r["properties"]!["roleDefinitionId"])).Contains($"'{StorageTableDataContributor}'", StringComparison.Ordinal)
                && Text(r["properties"]!["principalId"]) == "[parameters('appPrincipalId')]");
        Assert.Equal("ServicePrincipal", Text(assignment["properties"]!["principalType"]));
        Assert.Contains("Microsoft.Storage/storageAccounts", Text(assignment["scope"]), StringComparison.Ordinal);
        Assert.True(WebSocketHostingTests.IsOutputOf(storage.PassedExpression("appPrincipalId"), "identity", "principalId"));
        Assert.StartsWith("[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ", storage.Expand(Text(assignment["properties"]!["roleDefinitionId"])), StringComparison.Ordinal);
    }

    [Fact]
    public void The_membership_account_accepts_no_shared_keys_and_has_the_orleans_table()
    {
        var storage = compiled.Template.Module("storage");
        var account = storage.Single("Microsoft.Storage/storageAccounts");
        Assert.False(storage.Resolve(account["properties"]!["allowSharedKeyAccess"])!.GetValue<bool>());
        Assert.Equal("TLS1_2", Text(account["properties"]!["minimumTlsVersion"]));
        var table = storage.Single("Microsoft.Storage/storageAccounts/tableServices/tables");
        Assert.Contains("OrleansSiloInstances", Text(table["name"]), StringComparison.Ordinal);
    }

    [Fact]
    public void Postgres_accepts_only_entra_sign_in_with_the_app_identity_as_administrator()
    {
        var postgres = compiled.Template.Module("postgres");
        var server = postgres.Single("Microsoft.DBforPostgreSQL/flexibleServers");
        Assert.Equal("Enabled", Text(server["properties"]!["authConfig"]!["activeDirectoryAuth"]));
        Assert.Equal("Disabled", Text(server["properties"]!["authConfig"]!["passwordAuth"]));
        Assert.Equal("Disabled", Text(server["properties"]!["network"]!["publicNetworkAccess"]));
        Assert.False(server["properties"]!.AsObject().ContainsKey("administratorLoginPassword"));

        var admin = postgres.Single("Microsoft.DBforPostgreSQL/flexibleServers/administrators");
        Assert.Equal("ServicePrincipal", Text(admin["properties"]!["principalType"]));
        Assert.True(WebSocketHostingTests.IsOutputOf(postgres.PassedExpression("adminPrincipalId"), "identity", "principalId"));
        Assert.Equal("[variables('identityName')]", postgres.PassedExpression("adminIdentityName"));
        Assert.Equal("[variables('identityName')]", compiled.Template.Module("identity").PassedExpression("name"));
    }

    [Fact]
    public void The_site_runs_as_the_user_assigned_identity()
    {
        var site = compiled.Template.Module("web").Single("Microsoft.Web/sites");
        Assert.Equal("UserAssigned", Text(site["identity"]!["type"]));
        Assert.True(WebSocketHostingTests.IsOutputOf(compiled.Template.Module("web").PassedExpression("identityId"), "identity", "id"));
    }

    [Fact]
    public void Every_resource_with_a_location_carries_the_azd_env_name_tag()
    {
        var checkedCount = 0;
        foreach (var template in compiled.Template.SelfAndModules())
        {
            foreach (var resource in template.Resources.Where(r => r.ContainsKey("location")))
            {
                var tags = template.Resolve(resource["tags"]);
                var name = Text(resource["type"]);
                if (tags is JsonObject literal)
                {
                    Assert.True(Text(literal["azd-env-name"]) == "[parameters('environmentName')]", $"{name}: tags {literal.ToJsonString()}");
                }
                else
                {
                    // union(parameters('tags'), …) on the site: the module's tags parameter is the env tag.
                    Assert.True(Text(tags).Contains("parameters('tags')", StringComparison.Ordinal), $"{name}: tags {tags}");
                    Assert.Equal("[parameters('environmentName')]", Text(template.Parameter("tags")!["azd-env-name"]));
                }

                checkedCount++;
            }
        }

        Assert.True(checkedCount >= 10, $"Only {checkedCount} resources with a location were checked.");
    }

    [Fact]
    public void The_site_is_tagged_as_the_web_service_of_azure_yaml()
    {
        var web = compiled.Template.Module("web");
        var tags = Text(web.Single("Microsoft.Web/sites")["tags"]);
        Assert.Contains("'azd-service-name'", tags, StringComparison.Ordinal);
        Assert.Contains("parameters('serviceName')", tags, StringComparison.Ordinal);
        Assert.Equal("web", Text(web.Parameter("serviceName")));
    }

    [Fact]
    public void Resource_names_come_from_the_resource_token()
    {
        var variables = compiled.Template.Template["variables"]!;
        Assert.Equal("[toLower(uniqueString(subscription().id, parameters('environmentName'), parameters('location')))]", Text(variables["resourceToken"]));
        foreach (var module in new[] { "network", "monitoring", "storage", "postgres" })
        {
            var name = compiled.Template.Module(module).PassedExpression(module == "monitoring" ? "appInsightsName" : "name");
            Assert.Contains("variables('resourceToken')", name, StringComparison.Ordinal);
        }

        Assert.Contains("variables('resourceToken')", compiled.Template.Module("web").PassedExpression("siteName"), StringComparison.Ordinal);
    }

    [Fact]
    public void Outputs_give_azd_the_location_and_the_web_endpoint()
    {
        var outputs = compiled.Template.Template["outputs"]!.AsObject();
        foreach (var name in new[] { "AZURE_LOCATION", "AZURE_TENANT_ID", "AZURE_RESOURCE_GROUP", "SERVICE_WEB_NAME", "SERVICE_WEB_URI" })
        {
            Assert.True(outputs.ContainsKey(name), $"Output {name} is missing.");
        }

        Assert.True(WebSocketHostingTests.IsOutputOf(Text(outputs["SERVICE_WEB_URI"]!["value"]), "web", "uri"));
        Assert.StartsWith("[format('https://{0}'", Text(compiled.Template.Module("web").Template["outputs"]!["uri"]!["value"]), StringComparison.Ordinal);
    }

    [Fact]
    public void The_deployment_creates_its_own_resource_group_at_subscription_scope()
    {
        Assert.Contains("subscriptionDeploymentTemplate", Text(compiled.Template.Template["$schema"]), StringComparison.Ordinal);
        var rg = compiled.Template.Single("Microsoft.Resources/resourceGroups");
        Assert.Equal("[format('rg-{0}', parameters('environmentName'))]", Text(rg["name"]));
    }

    private static string Text(JsonNode? node) => node?.ToString() ?? "";
}
