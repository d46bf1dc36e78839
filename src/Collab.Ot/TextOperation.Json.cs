using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Collab.Ot;

// The wire form: a JSON array of retain n (positive), delete n (negative) and insert (non-empty string).
public sealed partial class TextOperation
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses the JSON form, normalizing it (<c>[2,-1,-1,3,3]</c> becomes <c>[2,-2,6]</c>).</summary>
    /// <exception cref="OtFormatException">The JSON is malformed or not a valid operation; the message says where and why.</exception>
    public static TextOperation Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(StrictUtf8.GetMaxByteCount(json.Length));
        try
        {
            int count;
            try
            {
                count = StrictUtf8.GetBytes(json, buffer);
            }
            catch (EncoderFallbackException e)
            {
                throw new OtFormatException("operation JSON contains a lone surrogate", e);
            }

            var reader = new Utf8JsonReader(buffer.AsSpan(0, count));
            if (!Advance(ref reader))
            {
                throw new OtFormatException("operation JSON is empty");
            }

            TextOperation op = Read(ref reader);
            if (Advance(ref reader))
            {
                throw new OtFormatException("unexpected content after the operation array");
            }

            return op;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <inheritdoc cref="Parse(string)"/>
    public static TextOperation Parse(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            throw new OtFormatException($"an operation must be a JSON array, not {Describe(element.ValueKind)}");
        }

        var builder = new TextOperationBuilder();
        int index = 0;
        foreach (JsonElement item in element.EnumerateArray())
        {
            switch (item.ValueKind)
            {
                case JsonValueKind.Number:
                    AddNumber(builder, index, item.TryGetInt32(out int fast) ? fast : ParseNumber(index, Encoding.UTF8.GetBytes(item.GetRawText())));
                    break;
                case JsonValueKind.String:
                    string text;
                    try
                    {
                        text = item.GetString()!;
                    }
                    catch (InvalidOperationException e)
                    {
                        throw new OtFormatException($"op[{index}]: insert is not valid UTF-16 (lone surrogate)", e);
                    }

                    AddInsert(builder, index, text);
                    break;
                default:
                    throw new OtFormatException($"op[{index}]: {Describe(item.ValueKind)} is not a valid component");
            }

            index++;
        }

        return builder.Build();
    }

    /// <summary>Reads an operation from a reader positioned on its <c>[</c>; leaves the reader on the matching <c>]</c>.</summary>
    /// <exception cref="OtFormatException">The JSON is malformed or not a valid operation.</exception>
    public static TextOperation Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new OtFormatException($"an operation must be a JSON array, not {Describe(reader.TokenType)}");
        }

        var builder = new TextOperationBuilder();
        int index = 0;
        while (true)
        {
            if (!Advance(ref reader))
            {
                throw new OtFormatException("unexpected end of JSON inside an operation");
            }

            switch (reader.TokenType)
            {
                case JsonTokenType.EndArray:
                    return builder.Build();
                case JsonTokenType.Comment:
                    continue; // only seen when the caller's reader allows comments
                case JsonTokenType.Number:
                    if (reader.TryGetInt32(out int fast))
                    {
                        AddNumber(builder, index, fast);
                    }
                    else
                    {
                        ReadOnlySpan<byte> raw = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
                        AddNumber(builder, index, ParseNumber(index, raw));
                    }

                    break;
                case JsonTokenType.String:
                    string text;
                    try
                    {
                        text = reader.GetString()!;
                    }
                    catch (InvalidOperationException e)
                    {
                        throw new OtFormatException($"op[{index}]: insert is not valid UTF-16 (lone surrogate)", e);
                    }

                    AddInsert(builder, index, text);
                    break;
                default:
                    throw new OtFormatException($"op[{index}]: {Describe(reader.TokenType)} is not a valid component");
            }

            index++;
        }
    }

    /// <summary>Writes the canonical JSON array.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStartArray();
        foreach (OpComponent c in Components)
        {
            if (c.IsInsert)
            {
                writer.WriteStringValue(c.Text);
            }
            else
            {
                writer.WriteNumberValue(c.Length);
            }
        }

        writer.WriteEndArray();
    }

    /// <summary>The canonical JSON array, e.g. <c>[2,"ab",-1,3]</c>, spelled exactly as JavaScript's <c>JSON.stringify</c> would.</summary>
    public string ToJson()
    {
        // Written by hand rather than with Utf8JsonWriter: its encoders escape all non-ASCII text (emoji become
        // \uD83D\uDE00), while the same text from the TypeScript client, JSON.stringify, leaves it readable.
        var json = new StringBuilder(16 + Math.Min(TargetLength, 4096));
        json.Append('[');
        for (int i = 0; i < Components.Length; i++)
        {
            if (i > 0)
            {
                json.Append(',');
            }

            OpComponent c = Components[i];
            if (c.IsInsert)
            {
                JsonText.AppendString(json, c.Text!);
            }
            else
            {
                json.Append(c.Length);
            }
        }

        return json.Append(']').ToString();
    }

    private static bool Advance(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.Read();
        }
        catch (JsonException e)
        {
            throw new OtFormatException($"invalid JSON: {e.Message}", e);
        }
    }

    private static int ParseNumber(int index, ReadOnlySpan<byte> raw)
    {
        JsonInteger.Result result = JsonInteger.TryParse(raw, out int value);
        return result switch
        {
            JsonInteger.Result.Ok => value,
            JsonInteger.Result.NotInteger => throw new OtFormatException($"op[{index}]: {Encoding.UTF8.GetString(raw)} is not an integer"),
            JsonInteger.Result.OutOfRange => throw new OtFormatException($"op[{index}]: {Encoding.UTF8.GetString(raw)} is outside the int range"),
            _ => throw new OtFormatException($"op[{index}]: {Encoding.UTF8.GetString(raw)} is not a JSON number"),
        };
    }

    private static void AddNumber(TextOperationBuilder builder, int index, int value)
    {
        if (value == 0)
        {
            throw new OtFormatException($"op[{index}]: 0 is not a valid component");
        }

        if (value == int.MinValue)
        {
            throw new OtFormatException($"op[{index}]: deleting 2147483648 code units exceeds the maximum operation length");
        }

        try
        {
            if (value > 0)
            {
                builder.Retain(value);
            }
            else
            {
                builder.Delete(-value);
            }
        }
        catch (OtException e)
        {
            throw new OtFormatException($"op[{index}]: {e.Message}", e);
        }
    }

    private static void AddInsert(TextOperationBuilder builder, int index, string text)
    {
        if (text.Length == 0)
        {
            throw new OtFormatException($"op[{index}]: \"\" (an empty insert) is not a valid component");
        }

        int lone = Utf16.IndexOfLoneSurrogate(text);
        if (lone >= 0)
        {
            throw new OtFormatException($"op[{index}]: insert has a lone surrogate at offset {lone}");
        }

        try
        {
            builder.Insert(text);
        }
        catch (OtException e)
        {
            throw new OtFormatException($"op[{index}]: {e.Message}", e);
        }
    }

    private static string Describe(JsonTokenType type) => type switch
    {
        JsonTokenType.StartArray => "a nested array",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.None => "nothing",
        _ => type.ToString(),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "a nested array",
        JsonValueKind.Object => "an object",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "nothing",
    };
}
