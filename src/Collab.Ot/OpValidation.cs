namespace Collab.Ot;

/// <summary>Checks that an operation may be applied to a given text without breaking its UTF-16 (the server's <c>bad_op</c> test).</summary>
public static class OpValidation
{
    /// <summary>
    /// Null when <paramref name="op"/> may be applied to <paramref name="text"/>; otherwise a human-readable reason.
    /// Checks that the base length equals the text length, that no component boundary (end of a retain or delete,
    /// position of an insert) falls between a high and a low surrogate of the text, and that no insert holds a lone surrogate.
    /// </summary>
    public static string? Check(TextOperation op, TextBuffer text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CheckCore(op, new BufferChars(text));
    }

    /// <inheritdoc cref="Check(TextOperation, TextBuffer)"/>
    public static string? Check(TextOperation op, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CheckCore(op, new StringChars(text));
    }

    private static string? CheckCore<T>(TextOperation op, T text)
        where T : struct, IChars
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.BaseLength != text.Length)
        {
            return $"base length {op.BaseLength} does not match the document length {text.Length}";
        }

        int position = 0;
        for (int i = 0; i < op.Components.Length; i++)
        {
            OpComponent c = op.Components[i];
            if (c.IsInsert)
            {
                // An insert sits where the previous component ends, so its position is checked with that component.
                int lone = Utf16.IndexOfLoneSurrogate(c.Text);
                if (lone >= 0)
                {
                    return $"op[{i}]: insert has a lone surrogate at offset {lone}";
                }

                continue;
            }

            position += Math.Abs(c.Length);
            if (SplitsPair(text, position))
            {
                return $"op[{i}]: {(c.IsRetain ? "retain" : "delete")} ends at {position}, inside a surrogate pair";
            }
        }

        return null;
    }

    private static bool SplitsPair<T>(T text, int position)
        where T : struct, IChars =>
        position > 0 && position < text.Length
        && char.IsHighSurrogate(text[position - 1]) && char.IsLowSurrogate(text[position]);

    private interface IChars
    {
        int Length { get; }

        char this[int index] { get; }
    }

    private readonly struct StringChars(string text) : IChars
    {
        public int Length => text.Length;

        public char this[int index] => text[index];
    }

    private readonly struct BufferChars(TextBuffer text) : IChars
    {
        public int Length => text.Length;

        public char this[int index] => text[index];
    }
}
