// The user-assigned managed identity the app runs as: it reads and writes Orleans membership in Table Storage,
// signs in to PostgreSQL (as its Entra administrator), publishes telemetry and reads the two app secrets from Key Vault
// (Key Vault references). Nothing in the app settings is a secret: the secrets appear there only as vault addresses.

@description('Name of the identity.')
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id, for the site identity block.')
output id string = identity.id

@description('Name, which is also the PostgreSQL role the app signs in as.')
output name string = identity.name

@description('Client id: AZURE_CLIENT_ID for DefaultAzureCredential.')
output clientId string = identity.properties.clientId

@description('Object (principal) id, for role assignments.')
output principalId string = identity.properties.principalId
