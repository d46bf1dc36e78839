using CsCheck;

namespace Collab.Ot.Tests;

/// <summary>Random documents (with surrogate pairs) and random operations that are valid for a given document.</summary>
internal static class Generators
{
    // Few distinct tokens and short documents make same-position inserts and overlapping edits common.
    private static readonly string[] Tokens = ["a", "b", "x", " ", "\n", "é", "中", "😀", "👍🏽", "\uD83D\uDE80"];

    public static readonly Gen<string> Text = Gen.OneOf(Tokens).Array[0, 10].Select(string.Concat);

    private static readonly Gen<string> InsertText = Gen.OneOf(Tokens).Array[1, 3].Select(string.Concat);

    /// <summary>A recipe for an edit, read against whatever document it is applied to (see <see cref="OpFor"/>).</summary>
    public static readonly Gen<EditStep[]> Script =
        Gen.Select(Gen.Int[0, 2], Gen.Int[1, 6], InsertText, (kind, size, text) => new EditStep(kind, size, text)).Array[0, 6];

    public static readonly Gen<(string Doc, TextOperation Op)> DocAndOp =
        Gen.Select(Text, Script, (doc, script) => (doc, OpFor(doc, script)));

    public static readonly Gen<(string Doc, TextOperation A, TextOperation B)> DocAndConcurrentOps =
        Gen.Select(Text, Script, Script, (doc, a, b) => (doc, OpFor(doc, a), OpFor(doc, b)));

    /// <summary>A document, an op on it, and an op on the result of the first.</summary>
    public static readonly Gen<(string Doc, TextOperation A, TextOperation B)> DocAndSequentialOps =
        Gen.Select(Text, Script, Script, (doc, a, b) =>
        {
            TextOperation first = OpFor(doc, a);
            return (doc, first, OpFor(first.Apply(doc), b));
        });

    /// <summary>Turns a script into an operation on <paramref name="doc"/> whose every boundary lies between code points.</summary>
    public static TextOperation OpFor(string doc, EditStep[] script)
    {
        var builder = new TextOperationBuilder();
        int position = 0;
        foreach (EditStep step in script)
        {
            switch (step.Kind)
            {
                case 0:
                    int retainEnd = Snap(doc, Math.Min(doc.Length, position + step.Size));
                    builder.Retain(retainEnd - position);
                    position = retainEnd;
                    break;
                case 1:
                    int deleteEnd = Snap(doc, Math.Min(doc.Length, position + step.Size));
                    builder.Delete(deleteEnd - position);
                    position = deleteEnd;
                    break;
                default:
                    builder.Insert(step.Text);
                    break;
            }
        }

        return builder.Retain(doc.Length - position).Build();
    }

    // Moves a boundary that would split a surrogate pair to just after the pair.
    private static int Snap(string doc, int position) =>
        position > 0 && position < doc.Length && char.IsLowSurrogate(doc[position]) ? position + 1 : position;

    public readonly record struct EditStep(int Kind, int Size, string Text);
}
