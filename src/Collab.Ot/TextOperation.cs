using System.Collections.Immutable;

namespace Collab.Ot;

/// <summary>An immutable edit of a UTF-16 text: a normalized sequence of retain, insert and delete components (ot.js semantics).</summary>
/// <remarks>
/// Split by concern: this file holds the value itself and <see cref="Apply"/>; the algebra (compose, transform,
/// invert) and the JSON form live in the other <c>TextOperation.*.cs</c> files.
/// </remarks>
public sealed partial class TextOperation : IEquatable<TextOperation>
{
    private int _hashCode;

    // Callers (the builder) guarantee the components are normalized and the lengths match them.
    internal TextOperation(ImmutableArray<OpComponent> components, int baseLength, int targetLength)
    {
        Components = components;
        BaseLength = baseLength;
        TargetLength = targetLength;
    }

    /// <summary>Normalized components: no empty parts, neighbours of the same kind merged, an insert before an adjacent delete, trailing retains kept.</summary>
    public ImmutableArray<OpComponent> Components { get; }

    /// <summary>Length of the document this operation applies to (retains + deletes).</summary>
    public int BaseLength { get; }

    /// <summary>Length of the document after applying (retains + inserts).</summary>
    public int TargetLength { get; }

    /// <summary>True when the operation changes nothing (only retains, or empty).</summary>
    public bool IsIdentity => Components.Length == 0 || (Components.Length == 1 && Components[0].IsRetain);

    /// <summary>The operation that keeps a document of <paramref name="length"/> code units unchanged.</summary>
    public static TextOperation Identity(int length) => new TextOperationBuilder().Retain(length).Build();

    /// <summary>Applies the operation to <paramref name="text"/>, returning the new text.</summary>
    /// <exception cref="OtException">The text length differs from <see cref="BaseLength"/>.</exception>
    public string Apply(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length != BaseLength)
        {
            throw new OtException($"cannot apply an operation with base length {BaseLength} to a text of length {text.Length}");
        }

        return string.Create(TargetLength, (Op: this, Text: text), static (dest, state) =>
        {
            ReadOnlySpan<char> source = state.Text;
            int read = 0;
            int written = 0;
            foreach (OpComponent c in state.Op.Components)
            {
                if (c.IsRetain)
                {
                    source.Slice(read, c.Length).CopyTo(dest[written..]);
                    read += c.Length;
                    written += c.Length;
                }
                else if (c.IsInsert)
                {
                    c.Text.AsSpan().CopyTo(dest[written..]);
                    written += c.Text!.Length;
                }
                else
                {
                    read -= c.Length;
                }
            }
        });
    }

    public bool Equals(TextOperation? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (other is null || other.BaseLength != BaseLength || other.TargetLength != TargetLength
            || other.Components.Length != Components.Length)
        {
            return false;
        }

        for (int i = 0; i < Components.Length; i++)
        {
            if (!Components[i].Equals(other.Components[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => obj is TextOperation other && Equals(other);

    public override int GetHashCode()
    {
        // Operations are immutable, so the hash is computed once; 0 doubles as "not yet computed".
        if (_hashCode == 0)
        {
            var hash = new HashCode();
            foreach (OpComponent c in Components)
            {
                hash.Add(c);
            }

            int h = hash.ToHashCode();
            _hashCode = h == 0 ? 1 : h;
        }

        return _hashCode;
    }

    public override string ToString() => ToJson();

    public static bool operator ==(TextOperation? left, TextOperation? right) =>
        left is null ? right is null : left.Equals(right);

    public static bool operator !=(TextOperation? left, TextOperation? right) => !(left == right);
}
