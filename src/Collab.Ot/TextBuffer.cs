namespace Collab.Ot;

/// <summary>
/// Gap buffer holding a document's text so applying a local edit costs O(edit + distance moved), not O(document) — the
/// server applies every op to one of these.
/// </summary>
/// <remarks>
/// The text is <c>_buffer[.._gapStart]</c> followed by <c>_buffer[_gapEnd..]</c>. Edits move the gap to where they
/// happen; a run of edits near one place (typing) therefore moves almost nothing. The array is only copied as a whole
/// when it grows, which doubles it, so growth is amortized O(1) per inserted code unit.
/// </remarks>
public sealed class TextBuffer
{
    private const int MinCapacity = 64;

    private char[] _buffer;
    private int _gapStart;
    private int _gapEnd;
    private string? _text;

    public TextBuffer(string text = "")
    {
        ArgumentNullException.ThrowIfNull(text);
        _buffer = new char[Math.Max(MinCapacity, text.Length + (text.Length / 4))];
        _gapStart = 0;
        _gapEnd = _buffer.Length - text.Length;
        text.CopyTo(0, _buffer, _gapEnd, text.Length);
        _text = text;
    }

    /// <summary>Length in UTF-16 code units.</summary>
    public int Length => _buffer.Length - (_gapEnd - _gapStart);

    public char this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length)
            {
                throw new ArgumentOutOfRangeException(nameof(index), index, $"index must be in 0..{Length - 1}");
            }

            return index < _gapStart ? _buffer[index] : _buffer[index + (_gapEnd - _gapStart)];
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
                c.Text.AsSpan().CopyTo(_buffer.AsSpan(_gapStart));
                _gapStart += c.Text!.Length;
                position += c.Text.Length;
                inverse.Delete(c.Text.Length);
            }
            else
            {
                int n = -c.Length;
                MoveGap(position);
                inverse.Insert(_buffer.AsSpan(_gapEnd, n));
                _gapEnd += n;
            }
        }

        _text = null;
        return inverse.Build();
    }

    /// <summary>The whole text; cached until the next <see cref="Apply"/>.</summary>
    public override string ToString() =>
        _text ??= string.Concat(_buffer.AsSpan(0, _gapStart), _buffer.AsSpan(_gapEnd));

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
        int gap = _gapEnd - _gapStart;
        if (gap >= needed)
        {
            return;
        }

        int length = Length;
        long wanted = Math.Max((long)_buffer.Length * 2, (long)length + needed + MinCapacity);
        int capacity = (int)Math.Min(wanted, Array.MaxLength);
        if (capacity - length < needed)
        {
            throw new OtException("document too large");
        }

        var grown = new char[capacity];
        int tail = _buffer.Length - _gapEnd;
        _buffer.AsSpan(0, _gapStart).CopyTo(grown);
        _buffer.AsSpan(_gapEnd, tail).CopyTo(grown.AsSpan(capacity - tail));
        _gapEnd = capacity - tail;
        _buffer = grown;
    }

    private void MoveGap(int position)
    {
        if (position < _gapStart)
        {
            // Text in [position, gapStart) moves to just before the gap's end.
            int n = _gapStart - position;
            _buffer.AsSpan(position, n).CopyTo(_buffer.AsSpan(_gapEnd - n));
            _gapStart = position;
            _gapEnd -= n;
        }
        else if (position > _gapStart)
        {
            int n = position - _gapStart;
            _buffer.AsSpan(_gapEnd, n).CopyTo(_buffer.AsSpan(_gapStart));
            _gapStart = position;
            _gapEnd += n;
        }
    }
}
