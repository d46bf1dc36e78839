using Collab.Contracts;
using Collab.Web.Access;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Collab.Web.Hosting;

/// <summary>
/// <c>Collab.Web mint …</c>: credentials for scripts and tests, signed with this deployment's configured keys (read
/// like the server reads them: appsettings, environment, <c>--Collab:…</c> arguments), printed on standard output.
/// <code>
/// mint token --sub ada --docs write:notes,read:team-* [--name Ada] [--color #e91e63] [--ttl 1h] [--jti id]
/// mint link --doc notes --kind edit [--generation 1]
/// </code>
/// A link's generation must be the document's current one (1 until its owner rotates it; the operator can read the
/// current links with <c>GET /api/docs/{doc}/links</c>).
/// </summary>
public static class MintCommand
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var kind = args.Length > 0 ? args[0] : "";
        Dictionary<string, string> options;
        string[] settings;
        try
        {
            (options, settings) = Parse(args);
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"mint {kind}: {e.Message}");
            return 2;
        }
        var configuration = new ConfigurationBuilder()
            .SetBasePath(AppContext.BaseDirectory)
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(settings)
            .Build();
        var access = configuration.GetSection(AccessOptions.Section).Get<AccessOptions>() ?? new AccessOptions();
        try
        {
            switch (kind)
            {
                case "token":
                    stdout.WriteLine(MintToken(access.Tokens, options));
                    return 0;
                case "link":
                    stdout.WriteLine(MintLink(access, options));
                    return 0;
                default:
                    stderr.WriteLine("usage: mint token --sub <user> --docs <perm:doc,…> [--name N] [--color C] [--ttl 1h] [--jti id]");
                    stderr.WriteLine("       mint link --doc <doc> --kind owner|edit|view [--generation 1]");
                    stderr.WriteLine("Keys come from configuration: Collab:Access:Tokens:{HmacKey,Issuer,Audience} and Collab:Access:SigningKey.");
                    return 2;
            }
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"mint {kind}: {e.Message}");
            return 2;
        }
    }

    private static string MintToken(TokenOptions tokens, Dictionary<string, string> options)
    {
        if (tokens.HmacKey is null) throw new ArgumentException("needs Collab:Access:Tokens:HmacKey (tokens of an OpenID Connect provider are minted by the provider)");
        if (tokens.Validate() is { } invalid) throw new ArgumentException(invalid);
        var sub = Required(options, "sub");
        var docs = Required(options, "docs").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var entry in docs)
            if (DocumentGrant.Parse(entry) is null) throw new ArgumentException($"'{entry}' is not read:|write:|owner: followed by a document id or a prefix ending in *");
        var ttl = Duration(options.GetValueOrDefault("ttl", "1h"));
        var now = DateTime.UtcNow;
        var claims = new Dictionary<string, object> { ["sub"] = sub, ["docs"] = docs };
        if (options.TryGetValue("name", out var name)) claims["name"] = name;
        if (options.TryGetValue("color", out var color)) claims["color"] = color;
        claims["jti"] = options.GetValueOrDefault("jti") ?? Guid.NewGuid().ToString("N");
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = tokens.Issuer,
            Audience = tokens.Audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + ttl,
            Claims = claims,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(tokens.Key()), SecurityAlgorithms.HmacSha256),
        });
    }

    private static string MintLink(AccessOptions access, Dictionary<string, string> options)
    {
        if (access.SigningKey is null) throw new ArgumentException("needs Collab:Access:SigningKey");
        if (LinksOnly(access).Validate() is { } invalid) throw new ArgumentException(invalid);
        var doc = Required(options, "doc");
        if (!Protocol.Identifiers.IsValidDocumentId(doc)) throw new ArgumentException("'doc' must be 1-128 characters of A-Z a-z 0-9 . _ -");
        LinkKind kind = Required(options, "kind") switch
        {
            "owner" => LinkKind.Owner,
            "edit" => LinkKind.Edit,
            "view" => LinkKind.View,
            var other => throw new ArgumentException($"--kind is owner, edit or view (was '{other}')"),
        };
        if (!long.TryParse(options.GetValueOrDefault("generation", "1"), out var generation) || generation < 1)
            throw new ArgumentException("--generation is a positive integer");
        return new ShareLinks(access.Key()).Mint(doc, kind, generation);
    }

    private static AccessOptions LinksOnly(AccessOptions access) => new() { Mode = AccessMode.Links, SigningKey = access.SigningKey };

    /// <summary>Splits <c>--name value</c> options from <c>--Collab:…</c> configuration overrides.</summary>
    private static (Dictionary<string, string> Options, string[] Settings) Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var settings = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length) throw new ArgumentException($"expected --option value, got '{arg}'");
            if (arg.Contains(':', StringComparison.Ordinal)) settings.AddRange([arg, args[++i]]);
            else options[arg[2..]] = args[++i];
        }
        return (options, [.. settings]);
    }

    private static string Required(Dictionary<string, string> options, string name) =>
        options.TryGetValue(name, out var value) && value.Length > 0 ? value : throw new ArgumentException($"--{name} is required");

    private static TimeSpan Duration(string text)
    {
        if (text.Length >= 2 && long.TryParse(text[..^1], out var n) && n > 0)
        {
            var unit = text[^1] switch { 's' => TimeSpan.FromSeconds(1), 'm' => TimeSpan.FromMinutes(1), 'h' => TimeSpan.FromHours(1), 'd' => TimeSpan.FromDays(1), _ => TimeSpan.Zero };
            if (unit > TimeSpan.Zero && n <= 366 * 24 * 3600) return unit * n;
        }
        throw new ArgumentException($"--ttl is a number and a unit s, m, h or d (was '{text}')");
    }
}
