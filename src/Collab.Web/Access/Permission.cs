namespace Collab.Web.Access;

/// <summary>What a credential lets its holder do with one document; each level includes the ones below it.</summary>
public enum Permission
{
    None = 0,
    Read = 1,
    Write = 2,
    Owner = 3,
}
