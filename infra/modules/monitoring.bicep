// Log Analytics workspace and workspace-based Application Insights. The app exports logs, traces and metrics with
// OpenTelemetry (Azure Monitor exporter) to APPLICATIONINSIGHTS_CONNECTION_STRING, authenticating with its managed
// identity: local (instrumentation-key-only) ingestion is disabled.

@description('Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Name of the Application Insights component.')
param appInsightsName string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Principal id of the app identity, granted Monitoring Metrics Publisher on the component.')
param appPrincipalId string

@description('Name of the app identity; with the role it keys the role assignment (known before deployment).')
param appIdentityName string

@description('Days of retention in the workspace.')
@minValue(30)
param retentionInDays int = 30

// Monitoring Metrics Publisher: lets the identity send telemetry when local auth is disabled.
var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Entra-authenticated ingestion only: the connection string alone cannot send telemetry.
    DisableLocalAuth: true
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appIdentityName, monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Resource id of the Log Analytics workspace (diagnostic settings target).')
output workspaceId string = workspace.id

@description('Application Insights connection string (an endpoint and key, not a credential: ingestion needs Entra auth).')
output appInsightsConnectionString string = appInsights.properties.ConnectionString
