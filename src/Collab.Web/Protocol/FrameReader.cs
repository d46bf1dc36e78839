using System.Text.Json;
using Collab.Ot;

namespace Collab.Web.Protocol;

/// <summary>A frame the server could not accept: the error code and a message saying what to fix.</summary>
internal readonly record struct FrameError(string Code, string Message);

/// <summary>Parses client frames straight from the received UTF-8 bytes (no intermediate DOM on the hot path).</summary>
internal static class FrameReader
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 16 };

    /// <summary>Parses one frame; on failure returns the error to send and leaves <paramref name="frame"/> partly filled (doc, seq) for context.</summary>
    public static FrameError? TryRead(ReadOnlySpan<byte> utf8, ClientFrame frame)
    {
        try
        {
            var reader = new Utf8JsonReader(utf8, ReaderOptions);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return new FrameError(ErrorCodes.BadJson, "a frame must be a JSON object");
            FrameError? fieldError = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var error = ReadProperty(ref reader, utf8, frame);
                fieldError ??= error;
            }
            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
                return new FrameError(ErrorCodes.BadJson, "a frame must be exactly one JSON object");
            return fieldError;
        }
        catch (JsonException e)
        {
            // The parser's own message is exception text (and quotes the input): say where, not what it said.
            return new FrameError(ErrorCodes.BadJson, $"invalid JSON at byte {e.BytePositionInLine ?? 0} of line {(e.LineNumber ?? 0) + 1}");
        }
    }

    private static FrameError? ReadProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, ClientFrame frame)
    {
        if (reader.ValueTextEquals("type"u8)) return ReadString(ref reader, "type", v => frame.Type = v);
        if (reader.ValueTextEquals("doc"u8)) return ReadString(ref reader, "doc", v => frame.Doc = v);
        if (reader.ValueTextEquals("clientId"u8)) return ReadString(ref reader, "clientId", v => frame.ClientId = v);
        if (reader.ValueTextEquals("instance"u8)) return ReadString(ref reader, "instance", v => frame.Instance = v);
        if (reader.ValueTextEquals("token"u8)) return ReadString(ref reader, "token", v => frame.Token = v);
        if (reader.ValueTextEquals("rev"u8)) return ReadInteger(ref reader, "rev", v => frame.Rev = v);
        if (reader.ValueTextEquals("seq"u8)) return ReadInteger(ref reader, "seq", v => frame.Seq = v);
        if (reader.ValueTextEquals("anchor"u8)) return ReadInteger(ref reader, "anchor", v => frame.Anchor = v);
        if (reader.ValueTextEquals("head"u8)) return ReadInteger(ref reader, "head", v => frame.Head = v);
        if (reader.ValueTextEquals("op"u8)) return ReadOp(ref reader, utf8, frame);
        if (reader.ValueTextEquals("user"u8)) return ReadUser(ref reader, frame);
        if (reader.ValueTextEquals("t"u8)) return ReadT(ref reader, frame);
        if (reader.ValueTextEquals("readOnly"u8)) return ReadBoolean(ref reader, "readOnly", v => frame.ReadOnly = v);
        if (reader.ValueTextEquals("live"u8)) return ReadBoolean(ref reader, "live", v => frame.Live = v);
        // Unknown fields are ignored so the contract can grow without breaking older servers.
        reader.Read();
        reader.Skip();
        return null;
    }

    private static FrameError? ReadString(ref Utf8JsonReader reader, string name, Action<string> set)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.String)
        {
            reader.Skip();
            return new FrameError(ErrorCodes.BadRequest, $"'{name}' must be a string");
        }
        if (!TryGetString(ref reader, out var value)) return new FrameError(ErrorCodes.BadRequest, $"'{name}' must be well-formed UTF-16 (no lone surrogates)");
        set(value);
        return null;
    }

    private static FrameError? ReadBoolean(ref Utf8JsonReader reader, string name, Action<bool> set)
    {
        reader.Read();
        if (reader.TokenType is not (JsonTokenType.True or JsonTokenType.False))
        {
            reader.Skip();
            return new FrameError(ErrorCodes.BadRequest, $"'{name}' must be true or false");
        }
        set(reader.TokenType == JsonTokenType.True);
        return null;
    }

    private static FrameError? ReadInteger(ref Utf8JsonReader reader, string name, Action<long> set)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var value) || value < 0 || value > MaxSafeInteger)
        {
            reader.Skip();
            return new FrameError(ErrorCodes.BadRequest, $"'{name}' must be a non-negative integer");
        }
        set(value);
        return null;
    }

    private static FrameError? ReadOp(ref Utf8JsonReader reader, ReadOnlySpan<byte> utf8, ClientFrame frame)
    {
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            reader.Skip();
            frame.OpError = "'op' must be a JSON array of retain (positive integer), insert (non-empty string) and delete (negative integer)";
            return null;
        }
        // Skip over the array first so a malformed op still lets the rest of the frame (doc, seq) be read for the error reply.
        var start = (int)reader.TokenStartIndex;
        reader.Skip();
        var array = new Utf8JsonReader(utf8[start..(int)reader.BytesConsumed], ReaderOptions);
        array.Read();
        try
        {
            frame.Op = TextOperation.Read(ref array);
        }
        catch (OtException e)
        {
            frame.OpError = e.Message;
        }
        return null;
    }

    private static FrameError? ReadUser(ref Utf8JsonReader reader, ClientFrame frame)
    {
        reader.Read();
        if (reader.TokenType == JsonTokenType.Null) return null;
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return new FrameError(ErrorCodes.BadRequest, "'user' must be an object {name, color}");
        }
        frame.HasUser = true;
        FrameError? error = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("name"u8)) error ??= ReadString(ref reader, "user.name", v => frame.UserName = v);
            else if (reader.ValueTextEquals("color"u8)) error ??= ReadString(ref reader, "user.color", v => frame.UserColor = v);
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return error;
    }

    private static FrameError? ReadT(ref Utf8JsonReader reader, ClientFrame frame)
    {
        reader.Read();
        if (reader.TokenType is JsonTokenType.Number)
        {
            frame.T = System.Text.Encoding.UTF8.GetString(reader.ValueSpan);
            return null;
        }
        if (reader.TokenType is JsonTokenType.String)
        {
            if (!TryGetString(ref reader, out var t)) return new FrameError(ErrorCodes.BadRequest, "'t' must be well-formed UTF-16 (no lone surrogates)");
            frame.T = JsonSerializer.Serialize(t);
            return null;
        }
        reader.Skip();
        return new FrameError(ErrorCodes.BadRequest, "'t' must be a number or a string");
    }

    /// <summary>Reads a string; false for an escaped lone surrogate, which .NET cannot turn into a string.</summary>
    private static bool TryGetString(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = "";
            return false;
        }
    }

    /// <summary>Numbers above 2^53 cannot round-trip through JavaScript, the contract's main client language.</summary>
    private const long MaxSafeInteger = (1L << 53) - 1;
}
