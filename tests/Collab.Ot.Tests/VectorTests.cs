using System.Text.Json;
using Xunit;

namespace Collab.Ot.Tests;

/// <summary>The shared vectors in tests/vectors, which the TypeScript client's tests read too.</summary>
public class VectorTests
{
    public static TheoryData<string> TransformCases => Vectors.Names("transform.json");

    public static TheoryData<string> ComposeCases => Vectors.Names("compose.json");

    public static TheoryData<string> ApplyCases => Vectors.Names("apply.json");

    public static TheoryData<string> InvalidCases => Vectors.Names("invalid-ops.json");

    [Theory]
    [MemberData(nameof(TransformCases))]
    public void Transform(string name)
    {
        JsonElement c = Vectors.Case("transform.json", name);
        string doc = c.GetProperty("doc").GetString()!;
        TextOperation a = Op(c, "a");
        TextOperation b = Op(c, "b");
        (TextOperation aPrime, TextOperation bPrime) = TextOperation.Transform(a, b);
        Assert.Equal(Op(c, "aPrime"), aPrime);
        Assert.Equal(Op(c, "bPrime"), bPrime);
        string result = c.GetProperty("result").GetString()!;
        Assert.Equal(result, bPrime.Apply(a.Apply(doc)));
        Assert.Equal(result, aPrime.Apply(b.Apply(doc)));
        Assert.Null(OpValidation.Check(a, doc));
        Assert.Null(OpValidation.Check(b, doc));
    }

    [Theory]
    [MemberData(nameof(ComposeCases))]
    public void Compose(string name)
    {
        JsonElement c = Vectors.Case("compose.json", name);
        string doc = c.GetProperty("doc").GetString()!;
        TextOperation composed = Op(c, "a").Compose(Op(c, "b"));
        Assert.Equal(Op(c, "composed"), composed);
        Assert.Equal(c.GetProperty("result").GetString(), composed.Apply(doc));
    }

    [Theory]
    [MemberData(nameof(ApplyCases))]
    public void Apply(string name)
    {
        JsonElement c = Vectors.Case("apply.json", name);
        string doc = c.GetProperty("doc").GetString()!;
        TextOperation op = Op(c, "op");
        Assert.Null(OpValidation.Check(op, doc));
        Assert.Equal(c.GetProperty("result").GetString(), op.Apply(doc));
        var buffer = new TextBuffer(doc);
        buffer.Apply(op);
        Assert.Equal(c.GetProperty("result").GetString(), buffer.ToString());
        Assert.Equal(op, TextOperation.Parse(c.GetProperty("op").GetRawText()));
    }

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Invalid_op_is_rejected(string name)
    {
        JsonElement c = Vectors.Case("invalid-ops.json", name);
        string doc = c.GetProperty("doc").GetString()!;
        JsonElement opJson = c.GetProperty("op");

        // The JsonElement and string paths must agree on whether (and so why) the op is malformed.
        TextOperation? fromElement = TryParse(() => TextOperation.Parse(opJson));
        TextOperation? fromString = TryParse(() => TextOperation.Parse(opJson.GetRawText()));
        Assert.Equal(fromElement, fromString);
        if (fromElement is not null)
        {
            Assert.NotNull(OpValidation.Check(fromElement, doc));
            Assert.NotNull(OpValidation.Check(fromElement, new TextBuffer(doc)));
        }
    }

    private static TextOperation Op(JsonElement c, string property) => TextOperation.Parse(c.GetProperty(property));

    private static TextOperation? TryParse(Func<TextOperation> parse)
    {
        try
        {
            return parse();
        }
        catch (OtFormatException)
        {
            return null;
        }
    }
}
