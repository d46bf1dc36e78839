using Xunit;

namespace Collab.Ot.Tests;

/// <summary>TextBuffer: in-place application, returned inverses, failure without side effects.</summary>
public class TextBufferTests
{
    [Fact]
    public void Apply_edits_in_place_and_returns_the_inverse()
    {
        var buffer = new TextBuffer("hello world");
        TextOperation inverse = buffer.Apply(TextOperation.Parse("[5,\",\",-6,\" there\"]"));
        Assert.Equal("hello, there", buffer.ToString());
        Assert.Equal(TextOperation.Parse("[5,\" world\",-7]"), inverse);
        buffer.Apply(inverse);
        Assert.Equal("hello world", buffer.ToString());
    }

    [Fact]
    public void Apply_with_a_wrong_base_length_throws_and_changes_nothing()
    {
        var buffer = new TextBuffer("abc");
        string before = buffer.ToString();
        var e = Assert.Throws<OtException>(() => buffer.Apply(TextOperation.Parse("[2,\"x\"]")));
        Assert.Contains("base length 2", e.Message, StringComparison.Ordinal);
        Assert.Equal(3, buffer.Length);
        Assert.Same(before, buffer.ToString());
    }

    [Fact]
    public void Typing_many_characters_grows_the_buffer()
    {
        var buffer = new TextBuffer();
        string expected = "";
        for (int i = 0; i < 1000; i++)
        {
            int at = (i * 7) % (buffer.Length + 1);
            buffer.Apply(new TextOperationBuilder().Retain(at).Insert("ab").Retain(buffer.Length - at).Build());
            expected = expected.Insert(at, "ab");
        }

        Assert.Equal(expected, buffer.ToString());
        Assert.Equal('a', buffer[0]);
        Assert.Equal(expected[1999], buffer[1999]);
    }

    [Fact]
    public void ToString_is_cached_until_the_next_apply()
    {
        var buffer = new TextBuffer("abc");
        string first = buffer.ToString();
        Assert.Same(first, buffer.ToString());
        buffer.Apply(TextOperation.Parse("[1,-1,1]"));
        Assert.Equal("ac", buffer.ToString());
        Assert.NotSame(first, buffer.ToString());
    }

    [Fact]
    public void Indexer_rejects_positions_outside_the_text()
    {
        var buffer = new TextBuffer("ab");
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer[2]);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer[-1]);
    }

    [Fact]
    public void Identity_returns_an_identity_inverse()
    {
        var buffer = new TextBuffer("abc");
        Assert.True(buffer.Apply(TextOperation.Identity(3)).IsIdentity);
        Assert.Equal("abc", buffer.ToString());
    }
}
