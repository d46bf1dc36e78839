// Linux App Service (Premium v3) running Collab.Web: every instance co-hosts an Orleans silo and the WebSocket front
// end. Silos talk to each other over regional VNet integration on the private ports App Service assigns
// (WEBSITE_PRIVATE_IP / WEBSITE_PRIVATE_PORTS); membership lives in Azure Table Storage; documents in PostgreSQL.
// Every setting that decides whether long-lived WebSockets work is set explicitly below, with the reason.

@description('Name of the App Service plan.')
param planName string

@description('Name of the web app (also its default host name: <name>.azurewebsites.net).')
param siteName string

@description('Azure region.')
param location string

@description('Tags for every resource; the site also gets azd-service-name.')
param tags object

@description('Name of the azd service deployed to this site (azure.yaml services.<name>).')
param serviceName string

@description('App Service plan SKU. Premium v3 (P0v3 and up) is what regional VNet integration with private ports and always-on need at this scale.')
@allowed([
  'P0v3'
  'P1v3'
  'P2v3'
  'P3v3'
  'P1mv3'
  'P2mv3'
  'P3mv3'
])
param skuName string = 'P1v3'

@description('Instances in the plan; each is one silo and one front end.')
@minValue(1)
@maxValue(30)
param instanceCount int = 2

@description('Spread instances across availability zones (needs instanceCount >= 2 and a region with zones).')
param zoneRedundant bool = false

@description('Resource id of the subnet delegated to Microsoft.Web/serverFarms.')
param subnetId string

@description('Resource id of the user-assigned identity the app runs as.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID for DefaultAzureCredential).')
param identityClientId string

@description('Table service endpoint of the membership storage account.')
param tableServiceUri string

@description('Npgsql connection string without a password (Entra token auth).')
param postgresConnectionString string

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Log Analytics workspace receiving the site logs.')
param logAnalyticsWorkspaceId string

@description('Collab:Access:Mode: Open (anyone with the URL edits), Links (signed share links), Tokens.')
@allowed([
  'Open'
  'Links'
  'Tokens'
])
param accessMode string = 'Links'

@description('Versioned URI of the Key Vault secret holding Collab:Access:SigningKey (the address, never the value).')
param signingKeyUri string

@description('Versioned URI of the Key Vault secret holding Collab:Operations:OperatorKey (the address, never the value).')
param operatorKeyUri string

@description('Orleans ClusterId: silos with the same id form one cluster.')
param clusterId string = 'collab'

@description('Orleans ServiceId: stays the same across deployments.')
param serviceId string = 'collab'

@description('Interval of the server keep-alive ping, in ms. Must stay well below every idle timeout on the path: App Service ~230 s, Front Door / Application Gateway / load balancers ~4 min, nginx 60 s.')
@minValue(1000)
@maxValue(30000)
param heartbeatMs int = 20000

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: skuName
    capacity: instanceCount
  }
  properties: {
    // Linux plan.
    reserved: true
    zoneRedundant: zoneRedundant
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: siteName
  location: location
  // azd finds the deploy target of `services.web` by this tag.
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    // HTTP is redirected to HTTPS, so browsers only ever open wss:// sockets.
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    // Key Vault references in the app settings are resolved with the user-assigned identity (the default would be a
    // system-assigned one, which this site does not have). When the vault firewall refuses the public route, App
    // Service retries through the VNet integration, which the vault admits.
    keyVaultReferenceIdentity: identityId
    // ARRAffinity cookie on. A WebSocket is pinned to its instance by its own TCP connection and needs no affinity,
    // but the SSE + POST fallback transport keeps a session in one instance's memory: its POSTs must reach the
    // instance holding its event stream. Without the cookie a POST landing elsewhere gets 404 and the client reopens
    // the stream and resumes (join + rev, nothing lost) — correct, but it would churn on every POST.
    clientAffinityEnabled: true
    clientCertEnabled: false
    // Regional VNet integration: each instance gets a private IP in this subnet; silo-to-silo traffic and the
    // PostgreSQL connection go through it.
    virtualNetworkSubnetId: subnetId
    siteConfig: {
      linuxFxVersion: 'DOTNETCORE|10.0'
      // App Service does not forward WebSocket upgrades unless this is on (off by default).
      webSocketsEnabled: true
      // Without it the site unloads after ~20 idle minutes, taking its silo (and every socket) with it, and the first
      // request after that pays a cold start.
      alwaysOn: true
      // Two private ports per instance in WEBSITE_PRIVATE_PORTS: the first is the silo port, the second the Orleans
      // gateway (for Orleans clients inside the VNet, e.g. a future separate front end).
      vnetPrivatePortsCount: 2
      // /readyz answers 200 when the silo has joined the cluster (a store outage is reported, not failed: every
      // instance shares the store, so pulling them all would only add an outage); App Service stops
      // routing new requests to an instance that fails it (WEBSITE_HEALTHCHECK_MAXPINGFAILURES) and replaces it.
      healthCheckPath: '/readyz'
      // HTTP/2 between browsers and the App Service front end: SSE streams and POSTs of the fallback transport share
      // one connection. WebSocket upgrades still use HTTP/1.1 and are unaffected.
      http20Enabled: true
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: [
        // DefaultAzureCredential picks the user-assigned identity with this client id.
        { name: 'AZURE_CLIENT_ID', value: identityClientId }
        // OpenTelemetry Azure Monitor exporter (Entra-authenticated; local auth is disabled on the component).
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
        // The front end sees the client's scheme and address behind App Service's TLS-terminating front end.
        { name: 'ASPNETCORE_FORWARDEDHEADERS_ENABLED', value: 'true' }
        // azd deploys the output of `dotnet publish`; nothing to build on the server.
        { name: 'SCM_DO_BUILD_DURING_DEPLOYMENT', value: 'false' }
        // Take an instance out of rotation after 2 failed /readyz probes (one per minute) instead of the default 10.
        { name: 'WEBSITE_HEALTHCHECK_MAXPINGFAILURES', value: '2' }
        // Every instance co-hosts a silo and the front end (no separate Orleans clients).
        { name: 'Collab__Cluster__Mode', value: 'Embedded' }
        // Orleans membership in Azure Table Storage, reached with the managed identity (no keys exist).
        { name: 'Collab__Cluster__Clustering', value: 'AzureTable' }
        { name: 'Collab__Cluster__AzureTableServiceUri', value: tableServiceUri }
        { name: 'Collab__Cluster__ClusterId', value: clusterId }
        { name: 'Collab__Cluster__ServiceId', value: serviceId }
        // Documents in PostgreSQL; the connection string has no password: the app supplies an Entra token.
        { name: 'Collab__Storage__Provider', value: 'Postgres' }
        { name: 'Collab__Storage__PostgresConnectionString', value: postgresConnectionString }
        { name: 'Collab__Storage__PostgresAuthentication', value: 'AzureIdentity' }
        // Server keep-alive ping, far below App Service's ~230 s idle cut (and nginx's 60 s default).
        { name: 'Collab__FrontEnd__HeartbeatMs', value: string(heartbeatMs) }
        // Only App Service's front ends reach the app: the client's address is the one they put in X-Forwarded-For,
        // which the per-address session cap counts by.
        { name: 'Collab__FrontEnd__TrustedProxies__0', value: '*' }
        // Who may open a document: Links by default, so a public deployment is not an open editor.
        { name: 'Collab__Access__Mode', value: accessMode }
        // The secrets are Key Vault references: the portal and the ARM template show only the address; App Service
        // resolves the value at start with the identity above, the same value on every instance.
        { name: 'Collab__Access__SigningKey', value: '@Microsoft.KeyVault(SecretUri=${signingKeyUri})' }
        { name: 'Collab__Operations__OperatorKey', value: '@Microsoft.KeyVault(SecretUri=${operatorKeyUri})' }
      ]
    }
  }
}

// Deployments authenticate with Entra ID (azd uses the signed-in account's token): no FTP or basic-auth publishing.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

// Console output (the app's logs), HTTP access logs and platform events (restarts, health check evictions).
resource siteLogs 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs'
  scope: site
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [
      { category: 'AppServiceConsoleLogs', enabled: true }
      { category: 'AppServiceHTTPLogs', enabled: true }
      { category: 'AppServicePlatformLogs', enabled: true }
    ]
    metrics: [
      { category: 'AllMetrics', enabled: true }
    ]
  }
}

@description('Name of the web app.')
output name string = site.name

@description('Public URL of the web app.')
output uri string = 'https://${site.properties.defaultHostName}'
