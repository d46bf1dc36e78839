using System.Text;
using System.Text.Json;
using Xunit;

namespace Collab.Ot.Tests;

/// <summary>The JSON form: what parses, how it is normalized, and what is rejected with which message.</summary>
public class JsonFormatTests
{
    [Theory]
    [InlineData("[2,-1,-1,3,3]", "[2,-2,6]")]
    [InlineData("[\"a\",\"b\"]", "[\"ab\"]")]
    [InlineData("[-1,\"x\"]", "[\"x\",-1]")]
    [InlineData("[-1,\"x\",-1,\"y\",2]", "[\"xy\",-2,2]")]
    [InlineData("[1,1,\"a\",-1,\"b\",1]", "[2,\"ab\",-1,1]")]
    [InlineData("[]", "[]")]
    [InlineData(" [ 3 , \"é😀\" ] ", "[3,\"é😀\"]")]
    public void Parse_normalizes_to_canonical_form(string json, string canonical)
    {
        TextOperation op = TextOperation.Parse(json);
        Assert.Equal(canonical, op.ToJson());
        Assert.Equal(TextOperation.Parse(canonical), op);
    }

    [Fact]
    public void Builder_ignores_empty_parts_and_merges_neighbours()
    {
        TextOperation op = new TextOperationBuilder().Retain(2).Insert("").Delete(1).Delete(1).Retain(3).Retain(3).Retain(0).Build();
        Assert.Equal(TextOperation.Parse("[2,-2,6]"), op);
        Assert.Equal<OpComponent>([OpComponent.Retain(2), OpComponent.Delete(2), OpComponent.Retain(6)], op.Components);
        Assert.Equal(10, op.BaseLength);
        Assert.Equal(8, op.TargetLength);
    }

    [Theory]
    [InlineData("5", 5)]
    [InlineData("5.0", 5)]
    [InlineData("5e0", 5)]
    [InlineData("50E-1", 5)]
    [InlineData("0.5e1", 5)]
    [InlineData("-7", -7)]
    [InlineData("-70e-1", -7)]
    [InlineData("2147483647", int.MaxValue)]
    [InlineData("2.147483647e9", int.MaxValue)]
    [InlineData("-2147483647", -int.MaxValue)]
    [InlineData("1000000000000000000000e-12", 1_000_000_000)]
    public void Parse_accepts_any_spelling_of_an_integer(string number, int expected)
    {
        TextOperation op = TextOperation.Parse($"[{number}]");
        Assert.Equal(expected > 0 ? OpComponent.Retain(expected) : OpComponent.Delete(-expected), Assert.Single(op.Components));
    }

    [Theory]
    [InlineData("{\"retain\":3}", "must be a JSON array, not an object")]
    [InlineData("\"abc\"", "must be a JSON array, not a string")]
    [InlineData("3", "must be a JSON array, not a number")]
    [InlineData("null", "must be a JSON array, not null")]
    [InlineData("true", "must be a JSON array, not a boolean")]
    [InlineData("[1,[1],1]", "op[1]: a nested array is not a valid component")]
    [InlineData("[{}]", "op[0]: an object is not a valid component")]
    [InlineData("[3,false]", "op[1]: a boolean is not a valid component")]
    [InlineData("[3,null]", "op[1]: null is not a valid component")]
    [InlineData("[1,2,\"x\",0]", "op[3]: 0 is not a valid component")]
    [InlineData("[-0]", "op[0]: 0 is not a valid component")]
    [InlineData("[0.0e5]", "op[0]: 0 is not a valid component")]
    [InlineData("[1,\"\"]", "op[1]: \"\" (an empty insert) is not a valid component")]
    [InlineData("[5.5]", "op[0]: 5.5 is not an integer")]
    [InlineData("[15e-1]", "op[0]: 15e-1 is not an integer")]
    [InlineData("[2147483647.0000000000000000001]", "op[0]: 2147483647.0000000000000000001 is not an integer")]
    [InlineData("[1e400]", "op[0]: 1e400 is outside the int range")]
    [InlineData("[2147483648]", "op[0]: 2147483648 is outside the int range")]
    [InlineData("[-2147483649]", "op[0]: -2147483649 is outside the int range")]
    [InlineData("[12345678901234567890123]", "op[0]: 12345678901234567890123 is outside the int range")]
    [InlineData("[-2147483648]", "op[0]: deleting 2147483648 code units exceeds the maximum operation length")]
    [InlineData("[2147483647,-1]", "op[1]: operation length exceeds int.MaxValue code units")]
    [InlineData("[2147483647,\"x\"]", "op[1]: operation length exceeds int.MaxValue code units")]
    [InlineData("[\"\\ud83d\"]", "op[0]: insert")]
    [InlineData("[\"x\\ude00\"]", "op[0]: insert")]
    [InlineData("[\"\\ude00\\ud83d\"]", "op[0]: insert")]
    [InlineData("[1,2", "invalid JSON")]
    [InlineData("[1,]", "invalid JSON")]
    [InlineData("[1] [2]", "invalid JSON")]
    [InlineData("", "invalid JSON")]
    public void Parse_rejects_malformed_operations_with_a_clear_message(string json, string message)
    {
        var fromString = Assert.Throws<OtFormatException>(() => TextOperation.Parse(json));
        Assert.Contains(message, fromString.Message, StringComparison.Ordinal);
        if (message != "invalid JSON")
        {
            using var document = JsonDocument.Parse(json);
            var fromElement = Assert.Throws<OtFormatException>(() => TextOperation.Parse(document.RootElement));
            Assert.Contains(message, fromElement.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_rejects_a_lone_surrogate_in_the_json_text_itself()
    {
        var e = Assert.Throws<OtFormatException>(() => TextOperation.Parse("[\"\uD83D\"]"));
        Assert.Contains("lone surrogate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OtFormatException_is_an_OtException()
    {
        Assert.Throws<OtFormatException>(() => TextOperation.Parse("[0]"));
        Assert.IsAssignableFrom<OtException>(new OtFormatException("x"));
    }

    [Fact]
    public void Read_consumes_exactly_the_array_and_leaves_the_reader_on_its_end()
    {
        byte[] json = Encoding.UTF8.GetBytes("{\"rev\":3,\"op\":[1,\"x\",-1,1],\"after\":true}");
        var reader = new Utf8JsonReader(json);
        while (reader.Read() && reader.TokenType != JsonTokenType.StartArray)
        {
        }

        TextOperation op = TextOperation.Read(ref reader);
        Assert.Equal(JsonTokenType.EndArray, reader.TokenType);
        Assert.Equal(TextOperation.Parse("[1,\"x\",-1,1]"), op);
        Assert.True(reader.Read());
        Assert.Equal("after", reader.GetString());
    }

    [Fact]
    public void Read_rejects_a_reader_not_on_an_array()
    {
        byte[] json = Encoding.UTF8.GetBytes("{\"op\":3}");
        var reader = new Utf8JsonReader(json);
        reader.Read();
        reader.Read();
        reader.Read();
        try
        {
            TextOperation.Read(ref reader);
            Assert.Fail("expected OtFormatException");
        }
        catch (OtFormatException e)
        {
            Assert.Contains("must be a JSON array, not a number", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void WriteTo_writes_the_canonical_array_inside_a_larger_document()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("op");
            TextOperation.Parse("[-1,\"x\",2]").WriteTo(writer);
            writer.WriteEndObject();
        }

        Assert.Equal("{\"op\":[\"x\",-1,2]}", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void ToJson_and_ToString_keep_text_readable()
    {
        TextOperation op = TextOperation.Parse("[1,\"é \\\"q\\\" 😀\\n\",-2]");
        Assert.Equal("[1,\"é \\\"q\\\" 😀\\n\",-2]", op.ToJson());
        Assert.Equal(op.ToJson(), op.ToString());
    }

    [Fact]
    public void ToJson_escapes_like_JSON_stringify()
    {
        TextOperation op = new TextOperationBuilder().Insert("\u0001\t\r\b\f\\/\uD83D\u00e9\uDE00").Build();
        Assert.Equal("[\"\\u0001\\t\\r\\b\\f\\\\/\\ud83dé\\ude00\"]", op.ToJson());
        Assert.Equal("[\"😀\"]", TextOperation.Parse("[\"\\uD83D\\uDE00\"]").ToJson());
    }
}
