using Xunit;

namespace Collab.Ot.Tests;

/// <summary>OpValidation: the base-length and surrogate-pair checks behind the server's bad_op answer.</summary>
public class OpValidationTests
{
    private const string Doc = "a😀b"; // 'a', high, low, 'b'

    [Theory]
    [InlineData("[2,\"x\",2]", "op[0]: retain ends at 2, inside a surrogate pair")]
    [InlineData("[2,-2]", "op[0]: retain ends at 2, inside a surrogate pair")]
    [InlineData("[1,-1,2]", "op[1]: delete ends at 2, inside a surrogate pair")]
    public void Check_rejects_a_boundary_between_the_halves_of_a_pair(string json, string reason)
    {
        TextOperation op = TextOperation.Parse(json);
        Assert.Equal(reason, OpValidation.Check(op, Doc));
        Assert.Equal(reason, OpValidation.Check(op, new TextBuffer(Doc)));
    }

    [Theory]
    [InlineData("[1,\"x\",3]")]
    [InlineData("[3,\"x\",1]")]
    [InlineData("[1,-2,1]")]
    [InlineData("[-4]")]
    [InlineData("[4,\"👍🏽\"]")]
    [InlineData("[4]")]
    public void Check_accepts_edits_at_code_point_boundaries(string json)
    {
        TextOperation op = TextOperation.Parse(json);
        Assert.Null(OpValidation.Check(op, Doc));
        Assert.Null(OpValidation.Check(op, new TextBuffer(Doc)));
    }

    [Fact]
    public void Check_rejects_a_base_length_mismatch()
    {
        Assert.Equal("base length 3 does not match the document length 4", OpValidation.Check(TextOperation.Parse("[3]"), Doc));
        Assert.Equal("base length 0 does not match the document length 4", OpValidation.Check(TextOperation.Parse("[]"), new TextBuffer(Doc)));
    }

    [Fact]
    public void Check_rejects_a_lone_surrogate_in_an_insert_built_in_code()
    {
        // Parse already refuses these; ops built with TextOperationBuilder are checked here.
        TextOperation op = new TextOperationBuilder().Retain(4).Insert("x\uD83D").Build();
        Assert.Equal("op[1]: insert has a lone surrogate at offset 1", OpValidation.Check(op, Doc));
    }

    [Fact]
    public void Check_sees_the_buffer_as_it_is_after_edits()
    {
        var buffer = new TextBuffer("ab");
        buffer.Apply(TextOperation.Parse("[1,\"😀\",1]"));
        Assert.NotNull(OpValidation.Check(TextOperation.Parse("[2,\"x\",2]"), buffer));
        Assert.Null(OpValidation.Check(TextOperation.Parse("[3,\"x\",1]"), buffer));
    }
}
