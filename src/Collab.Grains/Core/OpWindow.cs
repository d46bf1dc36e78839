using Collab.Contracts;

namespace Collab.Grains.Core;

/// <summary>
/// The most recent ops of a document, by revision (committed ones and the tentative ones of the batches being written):
/// late ops are transformed over them, and catch-up reads come from them.
/// </summary>
public sealed class OpWindow
{
    private readonly List<CommittedOp> entries = [];
    private long firstRev = 1;

    /// <summary>The newest revision held (or the revision the window starts after, when empty).</summary>
    public long LastRev => firstRev + entries.Count - 1;

    /// <summary>The oldest base revision an op may have and still be transformed with what the window holds.</summary>
    public long OldestBase => firstRev - 1;

    /// <summary>How many ops the window holds.</summary>
    public int Count => entries.Count;

    public void Reset(long rev)
    {
        entries.Clear();
        firstRev = rev + 1;
    }

    public void Add(CommittedOp op)
    {
        if (op.Rev != LastRev + 1) throw new InvalidOperationException($"Window expected rev {LastRev + 1}, got {op.Rev}.");
        entries.Add(op);
    }

    public CommittedOp this[long rev] => entries[(int)(rev - firstRev)];

    /// <summary>Keeps at least <paramref name="keep"/> ops before <paramref name="committedRev"/>; trims in chunks so the cost is amortised.</summary>
    /// <returns>Whether anything was dropped.</returns>
    public bool Trim(long committedRev, int keep)
    {
        var removable = (int)Math.Min(committedRev - keep - (firstRev - 1), entries.Count);
        if (removable < Math.Max(keep / 2, 1)) return false;
        entries.RemoveRange(0, removable);
        firstRev += removable;
        return true;
    }

    /// <summary>The ops after <paramref name="afterRev"/> up to <paramref name="toRev"/>, at most <paramref name="maxCount"/>.</summary>
    public CommittedOp[] Range(long afterRev, long toRev, int maxCount)
    {
        var from = Math.Max(afterRev + 1, firstRev);
        var count = (int)Math.Max(0, Math.Min(Math.Min(toRev, LastRev) - from + 1, maxCount));
        var result = new CommittedOp[count];
        for (var i = 0; i < count; i++) result[i] = entries[(int)(from - firstRev) + i];
        return result;
    }

    /// <summary>The revision at which (clientId, seq) was committed, if still in the window.</summary>
    public long? FindRev(string clientId, long seq)
    {
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var op = entries[i];
            if (op.Seq == seq && op.ClientId == clientId) return op.Rev;
        }
        return null;
    }
}
