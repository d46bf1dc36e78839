using System.Collections.Immutable;
using System.Text;

namespace Collab.Ot;

/// <summary>Builds a normalized <see cref="TextOperation"/> component by component; zero lengths and empty inserts are ignored.</summary>
/// <remarks>
/// Canonical form (as in ot.js): retains alternate with edit groups, and an edit group — every insert and delete
/// between two retains — collapses to one insert followed by one delete. The open retain or edit group is kept
/// pending so that merging many small parts stays linear.
/// </remarks>
public sealed class TextOperationBuilder
{
    private readonly ImmutableArray<OpComponent>.Builder _components = ImmutableArray.CreateBuilder<OpComponent>();
    private readonly StringBuilder _pendingInsert = new();
    private int _pendingRetain;
    private int _pendingDelete;
    private long _baseLength;
    private long _targetLength;

    public TextOperationBuilder Retain(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0)
        {
            return this;
        }

        Grow(n, n);
        FlushEdit();
        _pendingRetain += n;
        return this;
    }

    public TextOperationBuilder Insert(string s)
    {
        ArgumentNullException.ThrowIfNull(s);
        return Insert(s.AsSpan());
    }

    /// <summary>Deletes <paramref name="n"/> (≥ 0) code units.</summary>
    public TextOperationBuilder Delete(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n == 0)
        {
            return this;
        }

        Grow(n, 0);
        FlushRetain();
        _pendingDelete += n;
        return this;
    }

    public TextOperation Build()
    {
        int count = _components.Count + (_pendingRetain > 0 ? 1 : 0) + (_pendingInsert.Length > 0 ? 1 : 0) + (_pendingDelete > 0 ? 1 : 0);
        var result = ImmutableArray.CreateBuilder<OpComponent>(count);
        result.AddRange(_components);
        if (_pendingRetain > 0)
        {
            result.Add(OpComponent.Retain(_pendingRetain));
        }

        if (_pendingInsert.Length > 0)
        {
            result.Add(OpComponent.Insert(_pendingInsert.ToString()));
        }

        if (_pendingDelete > 0)
        {
            result.Add(OpComponent.Delete(_pendingDelete));
        }

        return new TextOperation(result.MoveToImmutable(), (int)_baseLength, (int)_targetLength);
    }

    internal TextOperationBuilder Insert(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty)
        {
            return this;
        }

        Grow(0, s.Length);
        FlushRetain();
        _pendingInsert.Append(s);
        return this;
    }

    /// <summary>Adds a component that is already valid (from another operation).</summary>
    internal TextOperationBuilder Add(OpComponent c) =>
        c.IsInsert ? Insert(c.Text!) : c.IsRetain ? Retain(c.Length) : Delete(-c.Length);

    // Lengths are checked before any state changes so a throwing call leaves the builder usable.
    private void Grow(int baseDelta, int targetDelta)
    {
        long newBase = _baseLength + baseDelta;
        long newTarget = _targetLength + targetDelta;
        if (newBase > int.MaxValue || newTarget > int.MaxValue)
        {
            throw new OtException("operation length exceeds int.MaxValue code units");
        }

        _baseLength = newBase;
        _targetLength = newTarget;
    }

    private void FlushRetain()
    {
        if (_pendingRetain > 0)
        {
            _components.Add(OpComponent.Retain(_pendingRetain));
            _pendingRetain = 0;
        }
    }

    private void FlushEdit()
    {
        if (_pendingInsert.Length > 0)
        {
            _components.Add(OpComponent.Insert(_pendingInsert.ToString()));
            _pendingInsert.Clear();
        }

        if (_pendingDelete > 0)
        {
            _components.Add(OpComponent.Delete(_pendingDelete));
            _pendingDelete = 0;
        }
    }
}
