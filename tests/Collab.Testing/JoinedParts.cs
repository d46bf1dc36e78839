using System.Text;
using System.Text.Json;

namespace Collab.Testing;

/// <summary>
/// Reassembles a full text sent in parts (a <c>joined</c> with <c>parts</c> &gt; 1, then <c>text</c> frames) into one
/// <c>joined</c> frame, as a client must (docs/protocol.md, "Large texts"); every other frame passes through.
/// </summary>
public sealed class JoinedParts
{
    private JsonElement? first;
    private StringBuilder? text;
    private int expected;
    private int received;

    /// <summary>Returns the frame to hand on (a reassembled <c>joined</c> once complete), or null while parts are missing.</summary>
    public JsonElement? Offer(JsonElement frame)
    {
        var type = frame.TryGetProperty("type", out var t) ? t.GetString() : null;
        if (type == "joined" && frame.TryGetProperty("parts", out var p) && p.GetInt32() > 1)
        {
            first = frame;
            text = new StringBuilder(frame.GetProperty("text").GetString());
            expected = p.GetInt32();
            received = 1;
            return null;
        }
        if (type != "text") return frame;
        if (first is not { } joined || text is null) throw new InvalidOperationException($"a 'text' part without its joined: {Shorten(frame)}");
        var part = frame.GetProperty("part").GetInt32();
        if (part != received + 1 || frame.GetProperty("doc").GetString() != joined.GetProperty("doc").GetString()
            || frame.GetProperty("rev").GetInt64() != joined.GetProperty("rev").GetInt64())
            throw new InvalidOperationException($"text part {part} out of order (expected {received + 1}): {Shorten(frame)}");
        text.Append(frame.GetProperty("text").GetString());
        if (++received < expected) return null;

        var whole = new Dictionary<string, object?>();
        foreach (var property in joined.EnumerateObject()) whole[property.Name] = property.Value;
        whole["text"] = text.ToString();
        first = null;
        text = null;
        return JsonSerializer.SerializeToElement(whole);
    }

    private static string Shorten(JsonElement frame)
    {
        var raw = frame.GetRawText();
        return raw.Length > 200 ? raw[..200] + "…" : raw;
    }
}
