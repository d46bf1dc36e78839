// Storage account for Orleans cluster membership (Microsoft.Orleans.Clustering.AzureStorage, table
// OrleansSiloInstances). Entra-only: shared keys are disabled and the app identity holds Storage Table Data
// Contributor. The network admits only the app's integration subnet (service endpoint).

@description('Name of the storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Principal id of the app identity, granted Storage Table Data Contributor.')
param appPrincipalId string

@description('Name of the app identity; with the role it keys the role assignment (known before deployment, unlike the principal id).')
param appIdentityName string

@description('Subnet allowed through the storage firewall (the App Service integration subnet).')
param allowedSubnetId string

@description('Optional principal (the person or pipeline running azd) also granted Storage Table Data Contributor, to inspect membership. Empty: none.')
param operatorPrincipalId string = ''

@description('Type of operatorPrincipalId.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param operatorPrincipalType string = 'User'

@description('Deny public network access except from allowedSubnetId. Turn off only to inspect tables from outside the VNet.')
param restrictToVnet bool = true

// Storage Table Data Contributor.
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    // Zone-redundant: membership must survive a zone outage as long as the silos do.
    name: 'Standard_ZRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    // No account keys, no SAS: every caller authenticates with Entra ID (the app via its managed identity).
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: restrictToVnet ? 'Deny' : 'Allow'
      virtualNetworkRules: [
        {
          id: allowedSubnetId
          action: 'Allow'
        }
      ]
    }
  }
}

resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: storage
  name: 'default'
}

// Created here (control plane) so the first silo does not need to; Orleans' default membership table name.
resource membershipTable 'Microsoft.Storage/storageAccounts/tableServices/tables@2025-01-01' = {
  parent: tableService
  name: 'OrleansSiloInstances'
}

resource appTableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appIdentityName, tableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorTableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(storage.id, operatorPrincipalId, tableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor)
    principalId: operatorPrincipalId
    principalType: operatorPrincipalType
  }
}

@description('Name of the storage account.')
output name string = storage.name

@description('Table service endpoint, e.g. https://<account>.table.core.windows.net/.')
output tableServiceUri string = storage.properties.primaryEndpoints.table
