using System.Collections.Immutable;

namespace Collab.Ot;

// Compose, transform and invert, following ot.js (TextOperation.prototype.compose, TextOperation.transform, invert).
public sealed partial class TextOperation
{
    /// <summary>One operation with the effect of this one followed by <paramref name="next"/>.</summary>
    /// <exception cref="OtException"><paramref name="next"/>'s base length is not this operation's target length.</exception>
    public TextOperation Compose(TextOperation next)
    {
        ArgumentNullException.ThrowIfNull(next);
        if (TargetLength != next.BaseLength)
        {
            throw new OtException(
                $"cannot compose: the first operation's target length {TargetLength} differs from the second's base length {next.BaseLength}");
        }

        var result = new TextOperationBuilder();
        var a = new Cursor(Components);
        var b = new Cursor(next.Components);
        while (!a.Done || !b.Done)
        {
            // Text this deletes is gone before next runs; text next inserts never passed through this.
            if (a.Kind == ComponentKind.Delete)
            {
                result.Delete(a.Remaining);
                a.TakeAll();
                continue;
            }

            if (b.Kind == ComponentKind.Insert)
            {
                result.Insert(b.RemainingText);
                b.TakeAll();
                continue;
            }

            int n = Math.Min(a.Remaining, b.Remaining);
            switch (a.Kind, b.Kind)
            {
                case (ComponentKind.Retain, ComponentKind.Retain):
                    result.Retain(n);
                    break;
                case (ComponentKind.Retain, ComponentKind.Delete):
                    result.Delete(n);
                    break;
                case (ComponentKind.Insert, ComponentKind.Retain):
                    result.Insert(a.RemainingText[..n]);
                    break;
                case (ComponentKind.Insert, ComponentKind.Delete):
                    break; // inserted, then deleted: nothing survives
                default:
                    throw new InvalidOperationException("unreachable: lengths were checked before composing");
            }

            a.Take(n);
            b.Take(n);
        }

        return result.Build();
    }

    /// <summary>
    /// Rebases two concurrent operations on each other: <c>apply(apply(s, a), b') == apply(apply(s, b), a')</c>.
    /// Where both insert at the same position, <paramref name="a"/>'s text comes first.
    /// </summary>
    /// <exception cref="OtException">The operations have different base lengths.</exception>
    public static (TextOperation APrime, TextOperation BPrime) Transform(TextOperation a, TextOperation b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.BaseLength != b.BaseLength)
        {
            throw new OtException($"cannot transform: base lengths differ ({a.BaseLength} and {b.BaseLength})");
        }

        var aPrime = new TextOperationBuilder();
        var bPrime = new TextOperationBuilder();
        var ca = new Cursor(a.Components);
        var cb = new Cursor(b.Components);
        while (!ca.Done || !cb.Done)
        {
            // Checking a's insert first is the tie-break: a's text lands before b's.
            if (ca.Kind == ComponentKind.Insert)
            {
                aPrime.Insert(ca.RemainingText);
                bPrime.Retain(ca.Remaining);
                ca.TakeAll();
                continue;
            }

            if (cb.Kind == ComponentKind.Insert)
            {
                aPrime.Retain(cb.Remaining);
                bPrime.Insert(cb.RemainingText);
                cb.TakeAll();
                continue;
            }

            int n = Math.Min(ca.Remaining, cb.Remaining);
            switch (ca.Kind, cb.Kind)
            {
                case (ComponentKind.Retain, ComponentKind.Retain):
                    aPrime.Retain(n);
                    bPrime.Retain(n);
                    break;
                case (ComponentKind.Delete, ComponentKind.Delete):
                    break; // both deleted the same text
                case (ComponentKind.Delete, ComponentKind.Retain):
                    aPrime.Delete(n);
                    break;
                case (ComponentKind.Retain, ComponentKind.Delete):
                    bPrime.Delete(n);
                    break;
                default:
                    throw new InvalidOperationException("unreachable: base lengths were checked before transforming");
            }

            ca.Take(n);
            cb.Take(n);
        }

        return (aPrime.Build(), bPrime.Build());
    }

    /// <summary>The operation that undoes this one: <c>apply(apply(s, op), op.Invert(s)) == s</c>.</summary>
    /// <param name="baseText">The text this operation is applied to (deleted text is read from it).</param>
    /// <exception cref="OtException">The text length differs from <see cref="BaseLength"/>.</exception>
    public TextOperation Invert(string baseText)
    {
        ArgumentNullException.ThrowIfNull(baseText);
        if (baseText.Length != BaseLength)
        {
            throw new OtException($"cannot invert an operation with base length {BaseLength} against a text of length {baseText.Length}");
        }

        var inverse = new TextOperationBuilder();
        int index = 0;
        foreach (OpComponent c in Components)
        {
            if (c.IsRetain)
            {
                inverse.Retain(c.Length);
                index += c.Length;
            }
            else if (c.IsInsert)
            {
                inverse.Delete(c.Text!.Length);
            }
            else
            {
                inverse.Insert(baseText.AsSpan(index, -c.Length));
                index -= c.Length;
            }
        }

        return inverse.Build();
    }

    /// <summary>Where <paramref name="position"/> in the base text ends up in the target text (for cursors and selections).</summary>
    /// <param name="position">A position in 0..<see cref="BaseLength"/>.</param>
    /// <param name="insertBefore">
    /// For text inserted exactly at <paramref name="position"/>: true places it before the position (the position
    /// moves past it); false (the default) keeps the position in front of it, matching the transform tie-break
    /// with the position playing the part of <c>a</c>.
    /// </param>
    public int TransformPosition(int position, bool insertBefore = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(position, BaseLength);

        int index = 0; // in the base text
        int shift = 0;
        foreach (OpComponent c in Components)
        {
            if (c.IsInsert)
            {
                if (index < position || (index == position && insertBefore))
                {
                    shift += c.Text!.Length;
                }
                else
                {
                    break;
                }
            }
            else if (c.IsRetain)
            {
                index += c.Length;
                if (index > position)
                {
                    break;
                }
            }
            else
            {
                int n = -c.Length;
                shift -= Math.Clamp(position - index, 0, n);
                index += n;
                if (index > position)
                {
                    break;
                }
            }
        }

        return position + shift;
    }

    private enum ComponentKind
    {
        End,
        Retain,
        Insert,
        Delete,
    }

    /// <summary>Reads an operation's components one piece at a time, so the algorithms never slice strings they do not keep.</summary>
    private struct Cursor(ImmutableArray<OpComponent> components)
    {
        private int _index;
        private int _offset;

        public readonly bool Done => _index >= components.Length;

        public readonly ComponentKind Kind
        {
            get
            {
                if (Done)
                {
                    return ComponentKind.End;
                }

                OpComponent c = components[_index];
                return c.IsInsert ? ComponentKind.Insert : c.IsRetain ? ComponentKind.Retain : ComponentKind.Delete;
            }
        }

        /// <summary>Code units left in the current component (0 at the end).</summary>
        public readonly int Remaining => Done ? 0 : components[_index].Span - _offset;

        public readonly ReadOnlySpan<char> RemainingText => components[_index].Text.AsSpan(_offset);

        public void Take(int n)
        {
            _offset += n;
            if (_offset == components[_index].Span)
            {
                _index++;
                _offset = 0;
            }
        }

        public void TakeAll()
        {
            _index++;
            _offset = 0;
        }
    }
}
