using System.Text.Json;
using Collab.Ot;

namespace Collab.LoadTest;

/// <summary>The fields of a server → client collab.v1 frame that the load tool acts on; absent ones are null.</summary>
internal sealed class ServerFrame
{
    public string? Type { get; private set; }
    public string? Doc { get; private set; }
    public long? Rev { get; private set; }
    public long? Seq { get; private set; }
    public TextOperation? Op { get; private set; }
    public string? Text { get; private set; }
    public string? Author { get; private set; }
    public string? SessionId { get; private set; }
    public string? Code { get; private set; }
    public string? Message { get; private set; }
    public int? RetryAfterMs { get; private set; }
    /// <summary>The server's frame limit (<c>welcome</c>).</summary>
    public int? MaxMessageBytes { get; private set; }
    public bool Fatal { get; private set; }
    /// <summary>A full text sent in parts: how many (on the <c>joined</c> and each <c>text</c> frame).</summary>
    public int? Parts { get; private set; }
    public int? Part { get; private set; }

    /// <summary>Completes a <c>joined</c> that came in parts with the concatenated text.</summary>
    public ServerFrame WithText(string text)
    {
        var copy = (ServerFrame)MemberwiseClone();
        copy.Text = text;
        return copy;
    }

    public ServerFrame WithoutParts()
    {
        var copy = (ServerFrame)MemberwiseClone();
        copy.Parts = null;
        copy.Part = null;
        return copy;
    }

    /// <summary>Reads one frame from its UTF-8 bytes without building a DOM (unknown fields are skipped).</summary>
    public static ServerFrame Parse(ReadOnlySpan<byte> utf8)
    {
        var frame = new ServerFrame();
        var reader = new Utf8JsonReader(utf8);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new JsonException("a frame must be a JSON object");
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("type"u8)) frame.Type = NextString(ref reader);
            else if (reader.ValueTextEquals("doc"u8)) frame.Doc = NextString(ref reader);
            else if (reader.ValueTextEquals("rev"u8)) frame.Rev = NextInt64(ref reader);
            else if (reader.ValueTextEquals("seq"u8)) frame.Seq = NextInt64(ref reader);
            else if (reader.ValueTextEquals("text"u8)) frame.Text = NextString(ref reader);
            else if (reader.ValueTextEquals("author"u8)) frame.Author = NextString(ref reader);
            else if (reader.ValueTextEquals("sessionId"u8)) frame.SessionId = NextString(ref reader);
            else if (reader.ValueTextEquals("code"u8)) frame.Code = NextString(ref reader);
            else if (reader.ValueTextEquals("message"u8)) frame.Message = NextString(ref reader);
            else if (reader.ValueTextEquals("parts"u8)) frame.Parts = (int)NextInt64(ref reader);
            else if (reader.ValueTextEquals("part"u8)) frame.Part = (int)NextInt64(ref reader);
            else if (reader.ValueTextEquals("retryAfterMs"u8)) frame.RetryAfterMs = (int)NextInt64(ref reader);
            else if (reader.ValueTextEquals("maxMessageBytes"u8)) frame.MaxMessageBytes = (int)NextInt64(ref reader);
            else if (reader.ValueTextEquals("fatal"u8))
            {
                reader.Read();
                frame.Fatal = reader.TokenType == JsonTokenType.True;
            }
            else if (reader.ValueTextEquals("op"u8))
            {
                reader.Read();
                frame.Op = TextOperation.Read(ref reader);
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        return frame;
    }

    private static string? NextString(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
    }

    private static long NextInt64(ref Utf8JsonReader reader)
    {
        reader.Read();
        return reader.GetInt64();
    }
}
