// Virtual network for Collab: silo-to-silo traffic between App Service instances (regional VNet integration) and the
// private PostgreSQL server. Nothing in it is reachable from the internet.

@description('Name of the virtual network.')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Subnet for App Service regional VNet integration. One address per instance (plus scale-out headroom): /24 leaves room for any plan size.')
param appSubnetPrefix string = '10.40.0.0/24'

@description('Subnet delegated to the PostgreSQL flexible server (private access).')
param postgresSubnetPrefix string = '10.40.1.0/24'

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        // Regional VNet integration: each instance gets a private IP here (WEBSITE_PRIVATE_IP) and, with
        // vnetPrivatePortsCount, private ports (WEBSITE_PRIVATE_PORTS) on which the co-hosted silos reach each other.
        name: 'app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [
            {
              name: 'app-service'
              properties: {
                serviceName: 'Microsoft.Web/serverFarms'
              }
            }
          ]
          // The storage account and the key vault only admit this subnet (see storage.bicep, keyvault.bicep).
          serviceEndpoints: [
            {
              service: 'Microsoft.Storage'
            }
            {
              service: 'Microsoft.KeyVault'
            }
          ]
        }
      }
      {
        name: 'postgres'
        properties: {
          addressPrefix: postgresSubnetPrefix
          delegations: [
            {
              name: 'postgres-flexible-server'
              properties: {
                serviceName: 'Microsoft.DBforPostgreSQL/flexibleServers'
              }
            }
          ]
        }
      }
    ]
  }
}

@description('Resource id of the virtual network.')
output vnetId string = vnet.id

@description('Resource id of the subnet delegated to Microsoft.Web/serverFarms.')
output appSubnetId string = vnet.properties.subnets[0].id

@description('Resource id of the subnet delegated to PostgreSQL flexible server.')
output postgresSubnetId string = vnet.properties.subnets[1].id
