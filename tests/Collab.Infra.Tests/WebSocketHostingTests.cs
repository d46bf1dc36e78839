using System.Text.Json.Nodes;

namespace Collab.Infra.Tests;

/// <summary>
/// The App Service settings that decide whether long-lived WebSockets and the co-hosted Orleans silos work, read from
/// the compiled ARM JSON (what Azure will actually receive), not from the Bicep source.
/// </summary>
public sealed class WebSocketHostingTests(CompiledTemplate compiled) : IClassFixture<CompiledTemplate>
{
    /// <summary>App Service's front end drops a connection idle for about 230 s; nothing can raise it.</summary>
    private const int AppServiceIdleCutMs = 230_000;

    /// <summary>nginx's default proxy_read_timeout, the shortest idle timeout anyone is likely to put in front.</summary>
    private const int NginxIdleMs = 60_000;

    private ArmTemplate Web => compiled.Template.Module("web");

    private JsonObject Site => Web.Single("Microsoft.Web/sites");

    private JsonNode SiteConfig => Site["properties"]!["siteConfig"]!;

    [Fact]
    public void WebSockets_are_enabled() => Assert.True(Bool(SiteConfig["webSocketsEnabled"]));

    [Fact]
    public void Always_on_keeps_the_silo_and_its_sockets_loaded() => Assert.True(Bool(SiteConfig["alwaysOn"]));

    [Fact]
    public void Client_affinity_is_on_because_a_fallback_session_lives_on_one_instance() =>
        Assert.True(Bool(Site["properties"]!["clientAffinityEnabled"]));

    [Fact]
    public void Health_check_probes_readyz() => Assert.Equal("/readyz", Text(SiteConfig["healthCheckPath"]));

    [Fact]
    public void Only_https_with_tls_1_2_or_newer_and_no_ftp()
    {
        Assert.True(Bool(Site["properties"]!["httpsOnly"]));
        Assert.Equal("1.2", Text(SiteConfig["minTlsVersion"]));
        Assert.Equal("1.2", Text(SiteConfig["scmMinTlsVersion"]));
        Assert.Equal("Disabled", Text(SiteConfig["ftpsState"]));
        foreach (var policy in Web.ResourcesOfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies"))
        {
            Assert.False(Bool(policy["properties"]!["allow"]));
        }

        Assert.Equal(2, Web.ResourcesOfType("Microsoft.Web/sites/basicPublishingCredentialsPolicies").Count());
    }

    [Fact]
    public void Runs_dotnet_10_on_linux() => Assert.Equal("DOTNETCORE|10.0", Text(SiteConfig["linuxFxVersion"]));

    [Fact]
    public void Each_instance_gets_private_ports_for_silo_and_gateway_in_the_integration_subnet()
    {
        Assert.True(Web.Resolve(SiteConfig["vnetPrivatePortsCount"])!.GetValue<int>() >= 2);
        Assert.Equal("[parameters('subnetId')]", Text(Site["properties"]!["virtualNetworkSubnetId"]));
        Assert.True(IsOutputOf(Web.PassedExpression("subnetId"), "network", "appSubnetId"), Web.PassedExpression("subnetId"));
    }

    [Fact]
    public void The_integration_subnet_is_delegated_to_server_farms()
    {
        var vnet = compiled.Template.Module("network").Single("Microsoft.Network/virtualNetworks");
        var app = vnet["properties"]!["subnets"]!.AsArray().Single(s => Text(s!["name"]) == "app")!;
        Assert.Contains(app["properties"]!["delegations"]!.AsArray(), d => Text(d!["properties"]!["serviceName"]) == "Microsoft.Web/serverFarms");
    }

    [Fact]
    public void Plan_is_linux_premium_v3_with_several_instances()
    {
        var plan = Web.Single("Microsoft.Web/serverfarms");
        Assert.Equal("linux", Text(plan["kind"]));
        Assert.True(Bool(plan["properties"]!["reserved"]));
        var sku = Text(Web.Resolve(plan["sku"]!["name"]));
        Assert.Matches("^P[0-9]m?v3$", sku);
        Assert.True(Web.Resolve(plan["sku"]!["capacity"])!.GetValue<int>() >= 2);
    }

    [Fact]
    public void Keep_alive_interval_is_below_every_idle_timeout_on_the_path()
    {
        var heartbeat = int.Parse(AppSetting("Collab__FrontEnd__HeartbeatMs"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(20_000, heartbeat);
        Assert.True(heartbeat < AppServiceIdleCutMs / 4, "Several pings must fit in App Service's idle window.");
        Assert.True(heartbeat < NginxIdleMs / 2, "Two pings must fit in nginx's default read timeout.");
    }

    [Fact]
    public void The_per_address_session_cap_counts_the_address_app_service_forwards()
    {
        Assert.Equal("*", AppSetting("Collab__FrontEnd__TrustedProxies__0"));
    }

    [Fact]
    public void Orleans_membership_is_in_azure_table_storage_reached_with_the_managed_identity()
    {
        Assert.Equal("Embedded", AppSetting("Collab__Cluster__Mode"));
        Assert.Equal("AzureTable", AppSetting("Collab__Cluster__Clustering"));
        Assert.True(IsOutputOf(AppSetting("Collab__Cluster__AzureTableServiceUri"), "storage", "tableServiceUri"));
        Assert.True(IsOutputOf(AppSetting("AZURE_CLIENT_ID"), "identity", "clientId"));
        Assert.Equal("collab", AppSetting("Collab__Cluster__ClusterId"));
        Assert.Equal("collab", AppSetting("Collab__Cluster__ServiceId"));
    }

    [Fact]
    public void Documents_are_in_postgres_signed_in_with_entra_not_a_password()
    {
        Assert.Equal("Postgres", AppSetting("Collab__Storage__Provider"));
        var connection = AppSetting("Collab__Storage__PostgresConnectionString");
        Assert.Contains("Host=", connection, StringComparison.Ordinal);
        Assert.Contains("Username=", connection, StringComparison.Ordinal);
        Assert.Contains("SSL Mode=VerifyFull", connection, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", connection, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("AzureIdentity", AppSetting("Collab__Storage__PostgresAuthentication"));
    }

    [Fact]
    public void Telemetry_goes_to_application_insights()
    {
        Assert.True(IsOutputOf(AppSetting("APPLICATIONINSIGHTS_CONNECTION_STRING"), "monitoring", "appInsightsConnectionString"));
        Assert.Equal("[parameters('logAnalyticsWorkspaceId')]", Text(Web.Single("Microsoft.Insights/diagnosticSettings")["properties"]!["workspaceId"]));
    }

    [Fact]
    public void No_app_setting_holds_a_key_or_password()
    {
        foreach (var setting in AppSettings())
        {
            var value = Text(Web.Resolve(setting["value"]));
            Assert.DoesNotContain("listKeys", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("AccountKey", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Password", value, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public void App_settings_are_unique()
    {
        var names = AppSettings().Select(s => Text(s["name"])).ToList();
        Assert.Equal(names.Distinct(StringComparer.OrdinalIgnoreCase).Count(), names.Count);
    }

    internal static bool IsOutputOf(string? expression, string module, string output) =>
        expression is not null
        && expression.Contains($"'Microsoft.Resources/deployments', '{module}')", StringComparison.Ordinal)
        && expression.Contains($".outputs.{output}.value", StringComparison.Ordinal);

    private IEnumerable<JsonObject> AppSettings() => SiteConfig["appSettings"]!.AsArray().OfType<JsonObject>();

    private string AppSetting(string name)
    {
        var setting = AppSettings().SingleOrDefault(s => Text(s["name"]) == name);
        Assert.True(setting is not null, $"App setting {name} is missing.");
        return Text(Web.Resolve(setting!["value"]));
    }

    private bool Bool(JsonNode? node) => Web.Resolve(node)!.GetValue<bool>();

    private static string Text(JsonNode? node) => node?.ToString() ?? "";
}
