namespace Collab.Ot;

/// <summary>One part of a <see cref="TextOperation"/>: retain n, delete n, or insert a string.</summary>
/// <remarks>
/// Encoded like the wire format: <see cref="Length"/> &gt; 0 retains, &lt; 0 deletes, and an insert carries its
/// <see cref="Text"/> with <see cref="Length"/> 0. <c>default(OpComponent)</c> is none of the three and is never
/// part of an operation.
/// </remarks>
public readonly record struct OpComponent
{
    private OpComponent(int length, string? text)
    {
        Length = length;
        Text = text;
    }

    /// <summary>Positive for a retain, negative for a delete, 0 for an insert.</summary>
    public int Length { get; }

    /// <summary>The inserted text; null unless this is an insert.</summary>
    public string? Text { get; }

    public bool IsRetain => Length > 0;

    public bool IsDelete => Length < 0;

    public bool IsInsert => Text is not null;

    /// <summary>UTF-16 code units this component spans in the document it reads from (retain, delete) or writes (insert).</summary>
    internal int Span => Text is not null ? Text.Length : Math.Abs(Length);

    public static OpComponent Retain(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return new OpComponent(n, null);
    }

    /// <summary>Deletes <paramref name="n"/> (&gt; 0) code units; stored as <c>-n</c>.</summary>
    public static OpComponent Delete(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        return new OpComponent(-n, null);
    }

    public static OpComponent Insert(string text)
    {
        ArgumentException.ThrowIfNullOrEmpty(text);
        return new OpComponent(0, text);
    }

    public override string ToString() =>
        Text is not null ? $"insert \"{Text}\"" : Length > 0 ? $"retain {Length}" : $"delete {-Length}";
}
