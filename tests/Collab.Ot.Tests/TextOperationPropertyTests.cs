using CsCheck;
using Xunit;

namespace Collab.Ot.Tests;

/// <summary>The algebraic laws the server and clients rely on, checked on random documents and operations.</summary>
public class TextOperationPropertyTests
{
    private const int Iterations = 2000;

    [Fact]
    public void Transform_satisfies_TP1()
    {
        Generators.DocAndConcurrentOps.Sample((doc, a, b) =>
        {
            (TextOperation aPrime, TextOperation bPrime) = TextOperation.Transform(a, b);
            Assert.Equal(bPrime.Apply(a.Apply(doc)), aPrime.Apply(b.Apply(doc)));
        }, iter: Iterations);
    }

    [Fact]
    public void Transformed_ops_stay_valid_for_the_documents_they_apply_to()
    {
        Generators.DocAndConcurrentOps.Sample((doc, a, b) =>
        {
            (TextOperation aPrime, TextOperation bPrime) = TextOperation.Transform(a, b);
            Assert.Null(OpValidation.Check(aPrime, b.Apply(doc)));
            Assert.Null(OpValidation.Check(bPrime, a.Apply(doc)));
        }, iter: Iterations);
    }

    [Fact]
    public void Transform_puts_a_insert_first_when_both_insert_at_the_same_position()
    {
        Gen.Select(Generators.Text, Gen.Int[0, 20], Gen.OneOf("x", "😀", "ab"), Gen.OneOf("y", "👍🏽", "cd"))
            .Sample((doc, at, textA, textB) =>
            {
                int position = Math.Min(at, doc.Length);
                if (position < doc.Length && char.IsLowSurrogate(doc[position]))
                {
                    position++;
                }

                TextOperation a = InsertAt(doc.Length, position, textA);
                TextOperation b = InsertAt(doc.Length, position, textB);
                (TextOperation aPrime, _) = TextOperation.Transform(a, b);
                string expected = string.Concat(doc.AsSpan(0, position), textA, textB, doc.AsSpan(position));
                Assert.Equal(expected, aPrime.Apply(b.Apply(doc)));
            }, iter: Iterations);
    }

    [Fact]
    public void Compose_agrees_with_applying_in_sequence()
    {
        Generators.DocAndSequentialOps.Sample((doc, a, b) =>
        {
            TextOperation composed = a.Compose(b);
            Assert.Equal(b.Apply(a.Apply(doc)), composed.Apply(doc));
            Assert.Equal(a.BaseLength, composed.BaseLength);
            Assert.Equal(b.TargetLength, composed.TargetLength);
        }, iter: Iterations);
    }

    [Fact]
    public void Invert_restores_the_original_text()
    {
        Generators.DocAndOp.Sample((doc, op) =>
        {
            TextOperation inverse = op.Invert(doc);
            Assert.Equal(doc, inverse.Apply(op.Apply(doc)));
            Assert.Equal(doc, op.Compose(inverse).Apply(doc));
            Assert.Equal(op, inverse.Invert(op.Apply(doc)));
        }, iter: Iterations);
    }

    [Fact]
    public void TextBuffer_agrees_with_string_apply_and_its_inverse_restores_the_text()
    {
        Gen.Select(Generators.Text, Generators.Script.Array[1, 5]).Sample((doc, scripts) =>
        {
            // Several ops on one buffer, so the gap moves and grows between edits.
            var buffer = new TextBuffer(doc);
            string expected = doc;
            foreach (Generators.EditStep[] script in scripts)
            {
                TextOperation op = Generators.OpFor(expected, script);
                string before = expected;
                expected = op.Apply(expected);
                TextOperation inverse = buffer.Apply(op);
                Assert.Equal(expected, buffer.ToString());
                Assert.Equal(op.Invert(before), inverse);
                Assert.Equal(before, inverse.Apply(expected));
            }

            Assert.Equal(expected.Length, buffer.Length);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], buffer[i]);
            }
        }, iter: Iterations);
    }

    [Fact]
    public void Json_round_trips()
    {
        Generators.DocAndOp.Sample((_, op) =>
        {
            Assert.Equal(op, TextOperation.Parse(op.ToJson()));
            using var document = System.Text.Json.JsonDocument.Parse(op.ToJson());
            Assert.Equal(op, TextOperation.Parse(document.RootElement));
        }, iter: Iterations);
    }

    [Fact]
    public void Normalization_is_idempotent_and_canonical()
    {
        Generators.DocAndOp.Sample((_, op) =>
        {
            var rebuilt = new TextOperationBuilder();
            foreach (OpComponent c in op.Components)
            {
                if (c.IsInsert)
                {
                    rebuilt.Insert(c.Text!);
                }
                else if (c.IsRetain)
                {
                    rebuilt.Retain(c.Length);
                }
                else
                {
                    rebuilt.Delete(-c.Length);
                }
            }

            Assert.Equal<OpComponent>(op.Components, rebuilt.Build().Components);
            AssertCanonical(op);
        }, iter: Iterations);
    }

    [Fact]
    public void Generated_ops_never_split_surrogate_pairs()
    {
        Generators.DocAndOp.Sample((doc, op) =>
        {
            Assert.Null(OpValidation.Check(op, doc));
            Assert.Null(OpValidation.Check(op, new TextBuffer(doc)));
        }, iter: Iterations);
    }

    [Fact]
    public void TransformPosition_keeps_a_position_next_to_the_same_character()
    {
        Gen.Select(Generators.DocAndOp, Gen.Int[0, 40]).Sample((docAndOp, at) =>
        {
            (string doc, TextOperation op) = docAndOp;
            int position = Math.Min(at, doc.Length);
            int mapped = op.TransformPosition(position);
            Assert.InRange(mapped, 0, op.TargetLength);

            // A position is a zero-width insert: transforming a marker insert against op must land it at the same place.
            const string marker = "\u0001";
            (TextOperation markerPrime, _) = TextOperation.Transform(InsertAt(doc.Length, position, marker), op);
            Assert.Equal(mapped, markerPrime.Apply(op.Apply(doc)).IndexOf(marker, StringComparison.Ordinal));
        }, iter: Iterations);
    }

    private static TextOperation InsertAt(int length, int position, string text) =>
        new TextOperationBuilder().Retain(position).Insert(text).Retain(length - position).Build();

    private static void AssertCanonical(TextOperation op)
    {
        for (int i = 0; i < op.Components.Length; i++)
        {
            OpComponent c = op.Components[i];
            Assert.True(c.IsRetain ^ c.IsDelete ^ c.IsInsert, $"component {i} of {op} is not exactly one kind");
            Assert.True(c.IsInsert ? c.Text!.Length > 0 && c.Length == 0 : c.Text is null && c.Length != 0);
            if (i > 0)
            {
                OpComponent previous = op.Components[i - 1];
                Assert.False(previous.IsRetain && c.IsRetain, $"{op}: adjacent retains");
                Assert.False(previous.IsInsert && c.IsInsert, $"{op}: adjacent inserts");
                Assert.False(previous.IsDelete && c.IsDelete, $"{op}: adjacent deletes");
                Assert.False(previous.IsDelete && c.IsInsert, $"{op}: delete before insert");
            }
        }
    }
}
