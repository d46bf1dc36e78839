// Collab on Azure, deployed with `azd up`: Linux App Service (Premium v3, several instances, each co-hosting an
// Orleans silo and the WebSocket front end) with regional VNet integration, Orleans membership in Azure Table Storage,
// documents in Azure Database for PostgreSQL flexible server, telemetry to Application Insights / Log Analytics.
// Every data-plane caller authenticates with one user-assigned managed identity: no keys or passwords exist for
// Azure services. The app's own two secrets (share-link signing key, operator key) live in Key Vault.
// See docs/deploy.md.
targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource group and seeds every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@description('Object id of the person or pipeline running azd (AZURE_PRINCIPAL_ID), granted read/write on the membership table for troubleshooting. Empty: none.')
param principalId string = ''

@description('Type of principalId: User when a person runs azd, ServicePrincipal for a pipeline.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param principalType string = 'User'

@description('App Service plan SKU (Premium v3).')
param appServicePlanSku string = 'P1v3'

@description('App Service instances: each is one silo plus one front end.')
@minValue(1)
@maxValue(30)
param instanceCount int = 2

@description('PostgreSQL compute tier (Burstable, GeneralPurpose, MemoryOptimized).')
param postgresSkuTier string = 'Burstable'

@description('PostgreSQL compute size, matching the tier (e.g. Standard_B2s, Standard_D2ds_v5).')
param postgresSkuName string = 'Standard_B2s'

@description('PostgreSQL high availability: Disabled, SameZone or ZoneRedundant (not on Burstable).')
param postgresHighAvailability string = 'Disabled'

@description('Admit only the App Service subnet to the membership storage account.')
param restrictStorageToVnet bool = true

@description('Admit only the App Service subnet to the key vault holding the signing and operator keys.')
param restrictKeyVaultToVnet bool = true

@description('Collab:Access:Mode of the deployment: Open, Links (signed share links) or Tokens.')
@allowed([
  'Open'
  'Links'
  'Tokens'
])
param accessMode string = 'Links'

@description('Custom domains bound to the web app, semicolon-separated (COLLAB_CUSTOM_HOST_NAMES): allowed as Host besides its default host name.')
param customHostNames string = ''

// Generated once per azd environment by infra/hooks/preprovision.sh and kept in it (COLLAB_SIGNING_KEY); the same
// value on every provision, because changing it revokes every share link ever issued. No default on purpose.
@secure()
@description('Collab:Access:SigningKey: base64 of at least 32 random bytes, stored in Key Vault.')
param signingKey string

// Generated the same way (COLLAB_OPERATOR_KEY): the bearer key operators send for /readyz detail.
@secure()
@description('Collab:Operations:OperatorKey: at least 16 characters, stored in Key Vault.')
param operatorKey string

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var databaseName = 'collab'
// Known before deployment, so role assignments can be named from it (the principal id is only known after).
var identityName = 'id-web-${resourceToken}'

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module network 'modules/network.bicep' = {
  name: 'network'
  scope: rg
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: identityName
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    appIdentityName: identityName
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    appIdentityName: identityName
    allowedSubnetId: network.outputs.appSubnetId
    operatorPrincipalId: principalId
    operatorPrincipalType: principalType
    restrictToVnet: restrictStorageToVnet
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  scope: rg
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
    appIdentityName: identityName
    allowedSubnetId: network.outputs.appSubnetId
    restrictToVnet: restrictKeyVaultToVnet
    signingKey: signingKey
    operatorKey: operatorKey
  }
}

module postgres 'modules/postgres.bicep' = {
  name: 'postgres'
  scope: rg
  params: {
    name: 'psql-${resourceToken}'
    location: location
    tags: tags
    vnetId: network.outputs.vnetId
    delegatedSubnetId: network.outputs.postgresSubnetId
    adminIdentityName: identityName
    // The Entra administrator resource is named by the object id, which exists only once the identity does; What-If
    // cannot predict that one child resource, the deployment itself is unaffected.
    #disable-next-line what-if-short-circuiting
    adminPrincipalId: identity.outputs.principalId
    databaseName: databaseName
    skuTier: postgresSkuTier
    skuName: postgresSkuName
    highAvailability: postgresHighAvailability
  }
}

module web 'modules/appservice.bicep' = {
  name: 'web'
  scope: rg
  params: {
    planName: 'plan-${resourceToken}'
    siteName: 'app-web-${resourceToken}'
    location: location
    tags: tags
    serviceName: 'web'
    skuName: appServicePlanSku
    instanceCount: instanceCount
    subnetId: network.outputs.appSubnetId
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    tableServiceUri: storage.outputs.tableServiceUri
    // No password: the role is the identity's name and the app supplies an Entra access token as the password.
    postgresConnectionString: 'Host=${postgres.outputs.fqdn};Port=5432;Database=${postgres.outputs.databaseName};Username=${identity.outputs.name};SSL Mode=VerifyFull'
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    accessMode: accessMode
    customHostNames: customHostNames
    // Addresses of the secrets, not their values. The keyvault module finishes only after the app identity's read
    // access exists, so the site never starts with a reference it may not resolve.
    signingKeyUri: keyVault.outputs.signingKeyUri
    operatorKeyUri: keyVault.outputs.operatorKeyUri
  }
}

// Values azd stores in .azure/<env>/.env after provisioning.
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CLIENT_ID string = identity.outputs.clientId
output AZURE_TABLE_STORAGE_ENDPOINT string = storage.outputs.tableServiceUri
output AZURE_POSTGRES_HOST string = postgres.outputs.fqdn
output AZURE_POSTGRES_DATABASE string = postgres.outputs.databaseName
output AZURE_POSTGRES_USER string = identity.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output SERVICE_WEB_NAME string = web.outputs.name
output SERVICE_WEB_URI string = web.outputs.uri
