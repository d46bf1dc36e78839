namespace Collab.Ot;

/// <summary>
/// Upper bounds on what text and operations weigh: on the wire (UTF-8 JSON, however the writer escapes) and in memory.
/// The bounds are what the server's byte limits are checked against, and the browser client splits with the same rule,
/// so an op it sends never comes back over the frame limit.
/// </summary>
public static class WireSize
{
    /// <summary>Bytes one UTF-16 unit may take inside a JSON string: 1 for printable ASCII, 2 for <c>"</c> and <c>\</c>, 6 for anything else (an escape).</summary>
    public static int Unit(char c) => c is >= ' ' and < (char)0x7F ? (c is '"' or '\\' ? 2 : 1) : 6;

    /// <summary>The most bytes <paramref name="text"/> takes as a JSON string literal, quotes included.</summary>
    public static long String(ReadOnlySpan<char> text)
    {
        long bytes = 2;
        foreach (var c in text) bytes += Unit(c);
        return bytes;
    }

    /// <summary>The most bytes the operation takes as its JSON array (numbers at most 11 bytes, a comma each).</summary>
    public static long Operation(TextOperation op)
    {
        long bytes = 2;
        foreach (var c in op.Components) bytes += 1 + (c.Text is { } text ? String(text) : 11);
        return bytes;
    }

    /// <summary>What the operation holds in memory, roughly: its inserted characters and its components.</summary>
    public static long Memory(TextOperation op)
    {
        long bytes = 64 + 16L * op.Components.Length;
        foreach (var c in op.Components)
            if (c.Text is { } text) bytes += 24 + 2L * text.Length;
        return bytes;
    }

    /// <summary>
    /// Cuts <paramref name="text"/> into consecutive parts of at most <paramref name="maxBytes"/> wire bytes each (as
    /// <see cref="String"/> counts them), never between the halves of a surrogate pair. Returns the end offset of each part.
    /// </summary>
    public static int[] Split(string text, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 16);
        var ends = new List<int>();
        long bytes = 2;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var cost = Unit(text[i]);
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            if (pair) cost += Unit(text[i + 1]);
            if (bytes + cost > maxBytes && i > start)
            {
                ends.Add(i);
                start = i;
                bytes = 2;
            }
            bytes += cost;
            if (pair) i++;
        }
        ends.Add(text.Length);
        return [.. ends];
    }
}
