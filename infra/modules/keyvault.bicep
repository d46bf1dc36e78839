// Key Vault holding the two secrets of a deployment: the access signing key (signs share links and author tags; every
// instance must use the same one, and changing it revokes every link ever issued) and the operator key. Both are
// generated once per azd environment by infra/hooks/preprovision.sh and passed in as secure parameters; they reach the
// app only as Key Vault references resolved with the app's user-assigned identity, which may read secrets and nothing
// else. RBAC authorization (no access policies); the network admits only the app's integration subnet (service
// endpoint), like the membership storage account. Writing the secrets here is a control-plane operation, which the
// vault firewall does not apply to, so provisioning works from anywhere.

@description('Name of the vault (3-24 letters, digits and hyphens, globally unique).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags for every resource.')
param tags object

@description('Principal id of the app identity, granted Key Vault Secrets User (read secret values, nothing else).')
param appPrincipalId string

@description('Name of the app identity; with the role it keys the role assignment (known before deployment, unlike the principal id).')
param appIdentityName string

@description('Subnet allowed through the vault firewall (the App Service integration subnet).')
param allowedSubnetId string

@description('Deny public network access except from allowedSubnetId. Turn off only to read the secrets from outside the VNet.')
param restrictToVnet bool = true

@secure()
@description('Collab:Access:SigningKey: base64 of at least 32 random bytes.')
param signingKey string

@secure()
@description('Collab:Operations:OperatorKey: at least 16 characters.')
param operatorKey string

// Key Vault Secrets User: get secret values; no listing of keys or certificates, no writes.
var keyVaultSecretsUser = '4633458b-17de-408a-b874-0445c86b69e6'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Azure RBAC decides who reads what; access policies are ignored.
    enableRbacAuthorization: true
    // Soft delete is always on; 7 days is the shortest, so `azd down` followed by `azd up` under the same name waits
    // at most a week (or `azd down --purge` frees the name at once).
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: restrictToVnet ? 'Deny' : 'Allow'
      virtualNetworkRules: [
        {
          id: allowedSubnetId
          ignoreMissingVnetServiceEndpoint: false
        }
      ]
    }
  }
}

resource signingKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'collab-access-signing-key'
  properties: {
    value: signingKey
    contentType: 'base64'
  }
}

resource operatorKeySecret 'Microsoft.KeyVault/vaults/secrets@2024-11-01' = {
  parent: vault
  name: 'collab-operator-key'
  properties: {
    value: operatorKey
    contentType: 'text/plain'
  }
}

resource appSecretsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appIdentityName, keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', keyVaultSecretsUser)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

@description('Name of the vault.')
output name string = vault.name

// Versioned URIs: a new value (rotation) changes the app setting, which restarts every instance and makes them all
// fetch the new version at once. A versionless URI would leave each instance on its cached value for up to 24 hours,
// and instances would disagree about the key.
@description('Versioned URI of the signing key secret (an address, not the value).')
output signingKeyUri string = signingKeySecret.properties.secretUriWithVersion

@description('Versioned URI of the operator key secret (an address, not the value).')
output operatorKeyUri string = operatorKeySecret.properties.secretUriWithVersion

