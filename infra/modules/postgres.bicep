// Azure Database for PostgreSQL flexible server holding Collab's documents (op log and snapshots).
// Private access only (VNet-injected into a delegated subnet, resolved through a private DNS zone) and Entra-only
// authentication: password authentication is disabled, so there is no password anywhere. The app's user-assigned
// identity is the server's Entra administrator and signs in with a token (DefaultAzureCredential, scope
// https://ossrdbms-aad.database.windows.net/.default) as the role named after the identity.

@description('Name of the server (3-63 lower-case letters, digits and hyphens).')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Resource id of the virtual network (linked to the private DNS zone).')
param vnetId string

@description('Resource id of the subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers.')
param delegatedSubnetId string

@description('Name of the app identity: the PostgreSQL role the app signs in as.')
param adminIdentityName string

@description('Object (principal) id of the app identity.')
param adminPrincipalId string

@description('Name of the database holding the documents.')
param databaseName string = 'collab'

@description('PostgreSQL major version.')
param version string = '16'

@description('Compute tier.')
@allowed([
  'Burstable'
  'GeneralPurpose'
  'MemoryOptimized'
])
param skuTier string = 'Burstable'

@description('Compute size, matching skuTier (e.g. Standard_B2s, Standard_D2ds_v5).')
param skuName string = 'Standard_B2s'

@description('Storage size in GiB.')
param storageSizeGB int = 32

@description('High availability: ZoneRedundant keeps a synchronous standby in another zone (not available on Burstable).')
@allowed([
  'Disabled'
  'SameZone'
  'ZoneRedundant'
])
param highAvailability string = 'Disabled'

resource privateDns 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  // Flexible server private access requires a zone ending in .private.postgres.database.azure.com.
  name: '${name}.private.postgres.database.azure.com'
  location: 'global'
  tags: tags
}

resource privateDnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: privateDns
  name: 'vnet'
  location: 'global'
  tags: tags
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2024-08-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuTier
  }
  properties: {
    version: version
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    network: {
      delegatedSubnetResourceId: delegatedSubnetId
      privateDnsZoneArmResourceId: privateDns.id
      publicNetworkAccess: 'Disabled'
    }
    storage: {
      storageSizeGB: storageSizeGB
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: highAvailability
    }
  }
  // The zone must be linked to the VNet before the server registers its A record in it.
  dependsOn: [
    privateDnsLink
  ]
}

// The app identity as Entra administrator: the role named after the identity exists without any SQL step, owns the
// tables it creates, and is a member of azure_pg_admin.
resource admin 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2024-08-01' = {
  parent: server
  name: adminPrincipalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: adminIdentityName
    tenantId: tenant().tenantId
  }
}

resource database 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2024-08-01' = {
  parent: server
  name: databaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  // One operation at a time on a flexible server: the administrator first, then the database.
  dependsOn: [
    admin
  ]
}

@description('Fully qualified domain name of the server (resolves to a private address inside the VNet).')
output fqdn string = server.properties.fullyQualifiedDomainName

@description('Name of the documents database.')
output databaseName string = database.name
