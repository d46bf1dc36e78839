namespace Collab.Ot;

/// <summary>
/// Gap buffer holding a document's text so applying a local edit costs O(edit + distance moved), not O(document) — the
/// server applies every op to one of these.
/// </summary>
/// <remarks>
/// The text is <c>buffer[..gapStart]</c> followed by <c>buffer[gapEnd..]</c>. Edits move the gap to where they
/// happen; a run of edits near one place (typing) therefore moves almost nothing. The array is only copied as a whole
/// when it grows, which doubles it, so growth is amortized O(1) per inserted code unit.
/// </remarks>
public sealed class TextBuffer
{
    private const int MinCapacity = 64;

    private char[] buffer;
    private int gapStart;
    private int gapEnd;
    private string? text;

    public TextBuffer(string text = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        buffer = new char[Math.Max(MinCapacity, text.Length + (text.Length / 4))];
        gapStart = 0;
        gapEnd = buffer.Length - text.Length;
        text.CopyTo(0, buffer, gapEnd, text.Length);
        this.text = text;
    }

    /// <summary>Length in UTF-16 code units.</summary>
    public int Length => buffer.Length - (gapEnd - gapStart);

    public char this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in 0..{Length - 1}");
            }

            return index < gapStart ? buffer[index] : buffer[index + (gapEnd - gapStart)];
        }
    }

    /// <summary>Applies <paramref name="op"/> in place and returns its inverse (which carries the deleted text).</summary>
    /// <exception cref="OtException">The buffer length differs from the operation's base length; nothing is changed.</exception>
    public TextOperation Apply(TextOperation op)
    {
        ArgumentNullException.ThrowIfNull(op);
        if (op.BaseLength != Length)
        {
            throw new OtException($"cannot apply an operation with base length {op.BaseLength} to a document of length {Length}");
        }

        if (op.IsIdentity)
        {
            return op;
        }

        EnsureGap(InsertedLength(op));
        var inverse = new TextOperationBuilder();
        int position = 0; // in the text as edited so far
        foreach (OpComponent c in op.Components)
        {
            if (c.IsRetain)
            {
                inverse.Retain(c.Length);
                position += c.Length;
            }
            else if (c.IsInsert)
            {
                MoveGap(position);
                c.Text.AsSpan().CopyTo(buffer.AsSpan(gapStart));
                gapStart += c.Text!.Length;
                position += c.Text.Length;
                inverse.Delete(c.Text.Length);
            }
            else
            {
                int n = -c.Length;
                MoveGap(position);
                inverse.Insert(buffer.AsSpan(gapEnd, n));
                gapEnd += n;
            }
        }

        text = null;
        return inverse.Build();
    }

    /// <summary>The whole text; cached until the next <see cref="Apply"/>.</summary>
    public override string ToString() =>
        text ??= string.Concat(buffer.AsSpan(0, gapStart), buffer.AsSpan(gapEnd));

    private static int InsertedLength(TextOperation op)
    {
        int total = 0;
        foreach (OpComponent c in op.Components)
        {
            if (c.IsInsert)
            {
                total += c.Text!.Length; // bounded by op.TargetLength, so no overflow
            }
        }

        return total;
    }

    private void EnsureGap(int needed)
    {
        int gap = gapEnd - gapStart;
        if (gap >= needed)
        {
            return;
        }

        int length = Length;
        long wanted = Math.Max((long)buffer.Length * 2, (long)length + needed + MinCapacity);
        int capacity = (int)Math.Min(wanted, Array.MaxLength);
        if (capacity - length < needed)
        {
            throw new OtException("document too large");
        }

        var grown = new char[capacity];
        int tail = buffer.Length - gapEnd;
        buffer.AsSpan(0, gapStart).CopyTo(grown);
        buffer.AsSpan(gapEnd, tail).CopyTo(grown.AsSpan(capacity - tail));
        gapEnd = capacity - tail;
        buffer = grown;
    }

    private void MoveGap(int position)
    {
        if (position < gapStart)
        {
            // Text in [position, gapStart) moves to just before the gap's end.
            int n = gapStart - position;
            buffer.AsSpan(position, n).CopyTo(buffer.AsSpan(gapEnd - n));
            gapStart = position;
            gapEnd -= n;
        }
        else if (position > gapStart)
        {
            int n = position - gapStart;
            buffer.AsSpan(gapEnd, n).CopyTo(buffer.AsSpan(gapStart));
            gapStart = position;
            gapEnd += n;
        }
    }
}
