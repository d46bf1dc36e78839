using Xunit;

namespace Collab.Ot.Tests;

/// <summary>Examples for apply, compose, transform, invert and TransformPosition, including their failures.</summary>
public class TextOperationTests
{
    [Fact]
    public void Apply_rejects_a_text_of_the_wrong_length()
    {
        var e = Assert.Throws<OtException>(() => TextOperation.Parse("[3]").Apply("ab"));
        Assert.Equal("cannot apply an operation with base length 3 to a text of length 2", e.Message);
    }

    [Fact]
    public void Compose_rejects_operations_that_do_not_chain()
    {
        var e = Assert.Throws<OtException>(() => TextOperation.Parse("[3,\"x\"]").Compose(TextOperation.Parse("[3]")));
        Assert.Contains("target length 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Transform_rejects_operations_on_different_documents()
    {
        var e = Assert.Throws<OtException>(() => TextOperation.Transform(TextOperation.Parse("[3]"), TextOperation.Parse("[4]")));
        Assert.Equal("cannot transform: base lengths differ (3 and 4)", e.Message);
    }

    [Fact]
    public void Invert_rejects_a_text_of_the_wrong_length()
    {
        Assert.Throws<OtException>(() => TextOperation.Parse("[-3]").Invert("ab"));
    }

    [Fact]
    public void Invert_recovers_deleted_text()
    {
        Assert.Equal(TextOperation.Parse("[1,\"bc\",-1,1]"), TextOperation.Parse("[1,\"X\",-2,1]").Invert("abcd"));
    }

    [Fact]
    public void Identity_has_one_retain_or_none()
    {
        Assert.Equal("[5]", TextOperation.Identity(5).ToJson());
        Assert.Equal("[]", TextOperation.Identity(0).ToJson());
        Assert.True(TextOperation.Identity(0).IsIdentity);
        Assert.True(TextOperation.Identity(5).IsIdentity);
        Assert.False(TextOperation.Parse("[\"x\"]").IsIdentity);
        Assert.False(TextOperation.Parse("[-1]").IsIdentity);
    }

    [Fact]
    public void Equality_is_by_components()
    {
        TextOperation a = TextOperation.Parse("[1,\"x\",-1,1]");
        TextOperation b = new TextOperationBuilder().Retain(1).Delete(1).Insert("x").Retain(1).Build();
        Assert.Equal(a, b);
        Assert.True(a == b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, TextOperation.Parse("[1,\"y\",-1,1]"));
        Assert.NotEqual(TextOperation.Parse("[2]"), TextOperation.Parse("[3]"));
    }

    [Theory]
    [InlineData("[1,\"xy\",2]", 0, false, 0)]
    [InlineData("[1,\"xy\",2]", 1, false, 1)] // insert at the position: stays in front of it
    [InlineData("[1,\"xy\",2]", 1, true, 3)]  // ...or moves past it
    [InlineData("[1,\"xy\",2]", 2, false, 4)]
    [InlineData("[1,-2]", 2, false, 1)]       // inside a deleted range: to its start
    [InlineData("[1,-2]", 3, false, 1)]
    [InlineData("[-1,\"ab\",2]", 0, false, 0)]
    [InlineData("[-1,\"ab\",2]", 1, false, 2)]
    [InlineData("[3,\"z\"]", 3, false, 3)]
    [InlineData("[3,\"z\"]", 3, true, 4)]
    public void TransformPosition_maps_positions_across_the_edit(string json, int position, bool insertBefore, int expected)
    {
        Assert.Equal(expected, TextOperation.Parse(json).TransformPosition(position, insertBefore));
    }

    [Fact]
    public void TransformPosition_rejects_positions_outside_the_base_text()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TextOperation.Parse("[3]").TransformPosition(4));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextOperation.Parse("[3]").TransformPosition(-1));
    }

    [Fact]
    public void Builder_rejects_negative_lengths_and_components_reject_empty_parts()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextOperationBuilder().Retain(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TextOperationBuilder().Delete(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpComponent.Retain(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => OpComponent.Delete(0));
        Assert.Throws<ArgumentException>(() => OpComponent.Insert(""));
        Assert.Equal(-3, OpComponent.Delete(3).Length);
        Assert.True(OpComponent.Delete(3).IsDelete);
        Assert.True(OpComponent.Insert("x").IsInsert);
        Assert.True(OpComponent.Retain(1).IsRetain);
    }

    [Fact]
    public void Builder_refuses_to_overflow_the_length()
    {
        var builder = new TextOperationBuilder().Retain(int.MaxValue);
        Assert.Throws<OtException>(() => builder.Insert("x"));
        Assert.Equal(TextOperation.Identity(int.MaxValue), builder.Build()); // a failed call changes nothing
    }
}
