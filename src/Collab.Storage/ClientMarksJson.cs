using System.Text.Json;
using System.Text.Json.Serialization;

namespace Collab.Storage;

/// <summary>The snapshot's client table as every store keeps it: <c>{"clientId":{"seq":n,"rev":n}}</c>.</summary>
public static class ClientMarksJson
{
    public static string Serialize(IReadOnlyDictionary<string, ClientMark> clients)
    {
        var copy = clients as Dictionary<string, ClientMark> ?? new Dictionary<string, ClientMark>(clients, StringComparer.Ordinal);
        return JsonSerializer.Serialize(copy, ClientMarksJsonContext.Default.DictionaryStringClientMark);
    }

    public static IReadOnlyDictionary<string, ClientMark> Deserialize(string json) =>
        JsonSerializer.Deserialize(json, ClientMarksJsonContext.Default.DictionaryStringClientMark)
        ?? new Dictionary<string, ClientMark>(StringComparer.Ordinal);
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Dictionary<string, ClientMark>))]
internal sealed partial class ClientMarksJsonContext : JsonSerializerContext;
