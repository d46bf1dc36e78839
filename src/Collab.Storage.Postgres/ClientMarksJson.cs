using System.Text.Json;
using System.Text.Json.Serialization;

namespace Collab.Storage.Postgres;

/// <summary>The snapshot's client table as stored (jsonb): <c>{"clientId":{"seq":n,"rev":n}}</c>, the same shape as the SQLite store's.</summary>
internal static class ClientMarksJson
{
    public static string Serialize(IReadOnlyDictionary<string, ClientMark> clients)
    {
        var copy = clients as Dictionary<string, ClientMark> ?? new Dictionary<string, ClientMark>(clients, StringComparer.Ordinal);
        return JsonSerializer.Serialize(copy, PostgresClientMarksJsonContext.Default.DictionaryStringClientMark);
    }

    public static IReadOnlyDictionary<string, ClientMark> Deserialize(string json) =>
        JsonSerializer.Deserialize(json, PostgresClientMarksJsonContext.Default.DictionaryStringClientMark)
        ?? new Dictionary<string, ClientMark>(StringComparer.Ordinal);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Dictionary<string, ClientMark>))]
internal sealed partial class PostgresClientMarksJsonContext : JsonSerializerContext;
