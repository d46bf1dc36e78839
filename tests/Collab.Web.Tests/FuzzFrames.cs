using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Collab.Web.Tests;

/// <summary>How a fuzz frame goes on the wire.</summary>
internal enum FuzzMode
{
    Text,
    Fragmented,
    Binary,
}

/// <summary>
/// One hostile frame. <see cref="CertainlyBad"/> frames are invalid by construction and must never get a normal answer;
/// mutations of real frames may turn out valid, and then get the normal answer.
/// </summary>
internal sealed record FuzzFrame(string Kind, byte[] Payload, FuzzMode Mode, bool CertainlyBad, int Fragments = 1)
{
    public async Task SendAsync(ClientWebSocket socket)
    {
        if (Mode == FuzzMode.Binary)
        {
            await socket.SendAsync(Payload, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
            return;
        }
        if (Mode == FuzzMode.Text || Payload.Length < 2)
        {
            await socket.SendAsync(Payload, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            return;
        }
        // Fragments cut anywhere, even inside a UTF-8 sequence: the server must reassemble the message first.
        var cuts = Enumerable.Range(0, Fragments - 1).Select(i => 1 + (int)((long)(Payload.Length - 1) * (i + 1) / Fragments)).Distinct().ToList();
        var start = 0;
        foreach (var cut in cuts.Append(Payload.Length))
        {
            await socket.SendAsync(Payload.AsMemory(start, cut - start), WebSocketMessageType.Text, endOfMessage: cut == Payload.Length, CancellationToken.None);
            start = cut;
        }
    }

    /// <summary>True when this is a valid <c>presence</c> frame, the one valid frame the server answers with nothing.</summary>
    public bool IsSilentWhenValid(bool welcomed, IReadOnlySet<string> joinedDocs)
    {
        if (Mode == FuzzMode.Binary || !welcomed) return false;
        try
        {
            using var json = JsonDocument.Parse(Payload, new JsonDocumentOptions { MaxDepth = 16 });
            if (json.RootElement.ValueKind != JsonValueKind.Object) return false;
            var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var p in json.RootElement.EnumerateObject()) fields[p.Name] = p.Value; // the last one wins, as on the server
            bool Int(string name, long max) =>
                fields.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) && n >= 0 && n <= max;
            const long safe = (1L << 53) - 1;
            return fields.TryGetValue("type", out var type) && type.ValueKind == JsonValueKind.String && type.GetString() == "presence"
                && fields.TryGetValue("doc", out var doc) && doc.ValueKind == JsonValueKind.String && joinedDocs.Contains(doc.GetString()!)
                && Int("rev", safe) && Int("anchor", int.MaxValue) && Int("head", int.MaxValue);
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public override string ToString()
    {
        var text = Mode == FuzzMode.Binary ? Convert.ToHexString(Payload.AsSpan(0, Math.Min(32, Payload.Length))) : Encoding.UTF8.GetString(Payload);
        if (text.Length > 200) text = text[..200] + $"... ({Payload.Length} bytes)";
        return $"[{Kind}{(Mode == FuzzMode.Fragmented ? $", {Fragments} fragments" : "")}] {text}";
    }
}

/// <summary>The hostile frame generator: bad JSON, wrong types, huge and negative numbers, overrunning ops, lone surrogates, deep nesting, binary, fragmented, oversized and invalid-UTF-8 frames, frames with wrong fields, and mutations of real frames.</summary>
internal static class FuzzFrames
{
    private const string Lone = "\\ud83d";
    private const string MutationChars = "{}[]\",:0123456789-.eE \\abcxyz";

    public static FuzzFrame Next(Random r, ConcurrentQueue<string> captured, string ownDoc, string sharedDoc, long uniqueSeq)
    {
        var doc = r.Next(10) switch
        {
            < 5 => sharedDoc,
            < 8 => ownDoc,
            8 => "never-joined-" + r.Next(100),
            _ => Pick(r, "has space", "", "x/y", new string('d', 129), "\\u0000"),
        };
        var d = JsonSerializer.Serialize(doc);
        var seq = uniqueSeq; // never committed by this client, so never a duplicate that would be acked
        var roll = r.Next(100);
        var frame = roll switch
        {
            < 12 => Bad("bad-json", Pick(r, "{not json", "[1,2,3]", "42", "null", "\"ping\"", "", "{\"type\":\"ping\"} {}", "{\"type\":\"ping\",}",
                "{\"type\":\"op\"", "{'type':'ping'}", "{\"type\":\"ping\"}}", "{\"type\" \"ping\"}", "\ufeff{\"type\":1", Garbage(r))),
            < 21 => Bad("wrong-types", Pick(r, "{\"type\":123}", "{\"type\":null}", "{\"type\":[\"ping\"]}", "{\"type\":{}}", "{\"clientId\":\"x\"}",
                "{\"type\":\"hello\",\"clientId\":42}", $"{{\"type\":\"join\",\"doc\":{{\"a\":1}}}}", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":\"0\",\"seq\":{seq},\"op\":[\"x\"]}}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":[{seq}],\"op\":[\"x\"]}}", $"{{\"type\":\"presence\",\"doc\":{d},\"rev\":0,\"anchor\":\"0\",\"head\":0}}",
                "{\"type\":\"hello\",\"clientId\":\"x\",\"user\":\"Ada\"}", $"{{\"type\":\"join\",\"doc\":{d},\"readOnly\":\"yes\"}}", "{\"type\":\"ping\",\"t\":{\"a\":1}}",
                "{\"type\":\"ping\",\"t\":true}", "{\"type\":\"ping\",\"t\":null}", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":{{\"retain\":3}}}}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":[true,3]}}", $"{{\"type\":\"presence\",\"doc\":{d},\"rev\":0,\"anchor\":[0],\"head\":0}}")),
            < 29 => Bad("huge-numbers", $"{{\"type\":\"{Pick(r, "op", "presence", "join")}\",\"doc\":{d},\"rev\":{Huge(r)},\"seq\":{seq},\"anchor\":0,\"head\":0,\"op\":[\"x\"]}}",
                $"{{\"type\":\"presence\",\"doc\":{d},\"rev\":0,\"anchor\":{Pick(r, "2147483648", "1e400", "9007199254740992")},\"head\":0}}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{Huge(r)},\"op\":[\"x\"]}}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":[{Pick(r, "1e400", "2147483648", "-2147483648", "1.5", "0", "-0", "0.0")}]}}"),
            < 35 => Bad("negative-revisions", $"{{\"type\":\"{Pick(r, "op", "presence", "join")}\",\"doc\":{d},\"rev\":{Pick(r, "-1", "-9007199254740991", "-1e3")},\"seq\":{seq},\"anchor\":0,\"head\":0,\"op\":[\"x\"]}}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":-1,\"op\":[\"x\"]}}", $"{{\"type\":\"presence\",\"doc\":{d},\"rev\":0,\"anchor\":-5,\"head\":0}}"),
            < 43 => Bad("overrunning-ops", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":{r.Next(3)},\"seq\":{seq},\"op\":{Pick(r, "[1000000]", "[-1000000]", "[2147483647,-1]", "[1,-2000000]", "[3000000,\"x\",99999]", "[2147483647,2147483647]")}}}"),
            < 49 => Bad("lone-surrogates", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":[\"{Lone}\"]}}", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":[\"\\ude00{Lone}\"]}}",
                $"{{\"type\":\"join\",\"doc\":\"a{Lone}\"}}", $"{{\"type\":\"hello\",\"clientId\":\"x{Lone}\"}}", $"{{\"type\":\"hello\",\"clientId\":\"ok\",\"user\":{{\"name\":\"{Lone}\"}}}}"),
            < 53 => Deep(r, d, seq),
            < 55 => new FuzzFrame("binary", r.Next(2) == 0 ? RandomBytes(r, 1 + r.Next(64)) : "{\"type\":\"ping\"}"u8.ToArray(), FuzzMode.Binary, CertainlyBad: true),
            < 57 => new FuzzFrame("oversized", Encoding.UTF8.GetBytes($"{{\"type\":\"ping\",\"t\":\"{new string('o', FuzzTestsLimits.MaxMessageBytes + r.Next(3 * FuzzTestsLimits.MaxMessageBytes))}\"}}"), FuzzMode.Text, CertainlyBad: true),
            < 58 => new FuzzFrame("invalid-utf8", [.. "{\"type\":\"ping\",\"t\":\""u8, .. Pick(r, new byte[] { 0xED, 0xA0, 0xBD }, [0xFF, 0xFE], [0xC0, 0xAF], [0xE2, 0x82]), .. "\"}"u8], FuzzMode.Text, CertainlyBad: true),
            < 70 => Bad("wrong-fields", "{\"type\":\"dance\"}", "{\"type\":\"HELLO\",\"clientId\":\"x\"}", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq}}}", "{\"type\":\"join\"}",
                $"{{\"type\":\"op\",\"doc\":{d},\"seq\":{seq},\"op\":[\"x\"]}}", $"{{\"type\":\"presence\",\"doc\":{d},\"rev\":0,\"anchor\":0}}", "{\"type\":\"leave\",\"doc\":\"never-joined-leave\"}",
                "{\"type\":\"hello\"}", "{\"type\":\"hello\",\"clientId\":\"bad id!\"}", $"{{\"type\":\"hello\",\"clientId\":\"{new string('c', 65)}\"}}",
                $"{{\"type\":\"hello\",\"clientId\":\"ok\",\"user\":{{\"name\":\"{new string('n', 65)}\"}}}}", "{\"type\":\"hello\",\"clientId\":\"ok\",\"user\":{\"name\":\"a\\u0007b\"}}",
                "{\"type\":\"join\",\"doc\":\"has space\"}", $"{{\"type\":\"op\",\"doc\":{d},\"rev\":999999999,\"seq\":{seq},\"op\":[\"x\"]}}", "{\"type\":\"\"}",
                $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":[1,\"\",2]}}"),
            _ => Mutation(r, captured, ownDoc, sharedDoc),
        };
        return frame.Mode == FuzzMode.Text && r.Next(10) == 0 && frame.Payload.Length >= 2
            ? frame with { Kind = "fragmented/" + frame.Kind, Mode = FuzzMode.Fragmented, Fragments = 2 + r.Next(4) }
            : frame;

        FuzzFrame Bad(string kind, params string[] options) => new(kind, Encoding.UTF8.GetBytes(Pick(r, options)), FuzzMode.Text, CertainlyBad: true);
    }

    private static FuzzFrame Deep(Random r, string d, long seq)
    {
        var depth = 17 + r.Next(400);
        var nested = new string('[', depth) + new string(']', depth);
        var json = r.Next(2) == 0
            ? $"{{\"type\":\"ping\",\"t\":{nested}}}"
            : $"{{\"type\":\"op\",\"doc\":{d},\"rev\":0,\"seq\":{seq},\"op\":{nested},\"x\":{{\"a\":{{\"b\":{nested}}}}}}}";
        return new FuzzFrame("deep-nesting", Encoding.UTF8.GetBytes(json), FuzzMode.Text, CertainlyBad: true);
    }

    /// <summary>A real frame (an honest client's op, or a valid join/presence/ping/leave/hello) with one random damage.</summary>
    private static FuzzFrame Mutation(Random r, ConcurrentQueue<string> captured, string ownDoc, string sharedDoc)
    {
        var sample = captured.Skip(r.Next(Math.Max(1, captured.Count))).FirstOrDefault();
        var source = r.Next(3) > 0 && sample is not null
            ? sample
            : Pick(r, $"{{\"type\":\"join\",\"doc\":\"{sharedDoc}\",\"rev\":{r.Next(50)}}}", $"{{\"type\":\"join\",\"doc\":\"{ownDoc}\"}}",
                $"{{\"type\":\"presence\",\"doc\":\"{sharedDoc}\",\"rev\":{r.Next(50)},\"anchor\":{r.Next(20)},\"head\":{r.Next(20)}}}",
                "{\"type\":\"ping\",\"t\":1732650000123}", $"{{\"type\":\"leave\",\"doc\":\"{ownDoc}\"}}", "{\"type\":\"hello\",\"clientId\":\"mutant\",\"user\":{\"name\":\"M\"}}",
                $"{{\"type\":\"op\",\"doc\":\"{ownDoc}\",\"rev\":0,\"seq\":{r.Next(100)},\"op\":[\"x\"]}}");
        var chars = source.ToCharArray().ToList();
        string kind;
        switch (r.Next(7))
        {
            case 0:
                kind = "mutated/char";
                chars[r.Next(chars.Count)] = MutationChars[r.Next(MutationChars.Length)];
                break;
            case 1:
                kind = "mutated/deleted-span";
                var at = r.Next(chars.Count);
                chars.RemoveRange(at, Math.Min(chars.Count - at, 1 + r.Next(8)));
                break;
            case 2:
                kind = "mutated/duplicated-span";
                var from = r.Next(chars.Count);
                chars.InsertRange(r.Next(chars.Count), chars.GetRange(from, Math.Min(chars.Count - from, 1 + r.Next(12))));
                break;
            case 3:
                kind = "mutated/number";
                return new FuzzFrame(kind, Encoding.UTF8.GetBytes(ReplaceNumber(r, source)), FuzzMode.Text, CertainlyBad: false);
            case 4:
                kind = "mutated/doc";
                return new FuzzFrame(kind, Encoding.UTF8.GetBytes(source.Replace($"\"{sharedDoc}\"", JsonSerializer.Serialize(Pick(r, ownDoc, "never-joined-m", "", "a b", sharedDoc)), StringComparison.Ordinal)), FuzzMode.Text, CertainlyBad: false);
            case 5:
                kind = "mutated/inserted-token";
                chars.InsertRange(r.Next(chars.Count + 1), Pick(r, ",", "null", "\"x\":1,", "[", "}", "\\u0000", "\"\\ud800\"", "1e999", "-", "{\"type\":\"op\"}"));
                break;
            default:
                kind = "mutated/extra-field";
                var close = source.LastIndexOf('}');
                if (close < 0) goto case 0;
                return new FuzzFrame(kind, Encoding.UTF8.GetBytes(source[..close] + Pick(r, ",\"type\":\"dance\"", ",\"rev\":-1", ",\"seq\":1.5", ",\"doc\":7", ",\"op\":null", ",\"extra\":{\"deep\":[1,2,3]}", ",\"user\":[]") + source[close..]), FuzzMode.Text, CertainlyBad: false);
        }
        return new FuzzFrame(kind, Encoding.UTF8.GetBytes(new string([.. chars])), FuzzMode.Text, CertainlyBad: false);
    }

    private static string ReplaceNumber(Random r, string source)
    {
        var starts = Enumerable.Range(0, source.Length).Where(i => char.IsAsciiDigit(source[i]) && (i == 0 || !char.IsAsciiDigit(source[i - 1]) && source[i - 1] != '-')).ToList();
        if (starts.Count == 0) return source + "0";
        var start = starts[r.Next(starts.Count)];
        var end = start;
        while (end < source.Length && char.IsAsciiDigit(source[end])) end++;
        return source[..start] + Pick(r, "-1", "0", "1", "9007199254740992", "1e400", "1.5", "99999999999999999999", r.Next(100).ToString(System.Globalization.CultureInfo.InvariantCulture)) + source[end..];
    }

    private static string Huge(Random r) => Pick(r, "1e400", "9007199254740992", "99999999999999999999999", "1.5", "5.0", "5e0", "18446744073709551616");

    private static string Garbage(Random r)
    {
        const string alphabet = "{}[]\":,\\ abcdefxyz0123456789-+.eE\t\n\u00e9\u20ac";
        return new string([.. Enumerable.Range(0, 1 + r.Next(60)).Select(_ => alphabet[r.Next(alphabet.Length)])]);
    }

    private static byte[] RandomBytes(Random r, int length)
    {
        var bytes = new byte[length];
        r.NextBytes(bytes);
        return bytes;
    }

    private static T Pick<T>(Random r, params T[] options) => options[r.Next(options.Length)];
}

/// <summary>The server limits the fuzz test runs with.</summary>
internal static class FuzzTestsLimits
{
    public const int MaxMessageBytes = 8192;
}
