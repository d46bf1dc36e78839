using Collab.Contracts;
using Collab.Ot;

namespace Collab.Grains;

/// <summary>
/// The most recent ops of a document, by revision: committed ones (for transforming late ops and catch-up) and the
/// tentative ones of the batch being written, whose inverses let the grain reconstruct the committed text.
/// </summary>
internal sealed class OpWindow
{
    private readonly List<Entry> entries = [];
    private long firstRev = 1;

    /// <summary>The newest revision held (or the revision the window starts after, when empty).</summary>
    public long LastRev => firstRev + entries.Count - 1;

    /// <summary>The oldest base revision an op may have and still be transformed with what the window holds.</summary>
    public long OldestBase => firstRev - 1;

    public void Reset(long rev)
    {
        entries.Clear();
        firstRev = rev + 1;
    }

    public void Add(CommittedOp op, TextOperation? inverse)
    {
        if (op.Rev != LastRev + 1) throw new InvalidOperationException($"Window expected rev {LastRev + 1}, got {op.Rev}.");
        entries.Add(new Entry(op, inverse));
    }

    public CommittedOp this[long rev] => entries[(int)(rev - firstRev)].Op;

    public TextOperation InverseOf(long rev) =>
        entries[(int)(rev - firstRev)].Inverse ?? throw new InvalidOperationException($"No inverse kept for rev {rev}.");

    /// <summary>Drops the inverses of revisions up to <paramref name="committedRev"/> (they are only needed while tentative).</summary>
    public void Committed(long fromRev, long committedRev)
    {
        for (var rev = Math.Max(fromRev, firstRev); rev <= committedRev; rev++)
        {
            var i = (int)(rev - firstRev);
            entries[i] = entries[i] with { Inverse = null };
        }
    }

    /// <summary>Keeps at least <paramref name="keep"/> ops before <paramref name="committedRev"/>; trims in chunks so the cost is amortised.</summary>
    public void Trim(long committedRev, int keep)
    {
        var removable = (int)Math.Min(committedRev - keep - (firstRev - 1), entries.Count);
        if (removable < Math.Max(keep / 2, 1)) return;
        entries.RemoveRange(0, removable);
        firstRev += removable;
    }

    /// <summary>The committed ops after <paramref name="afterRev"/> up to <paramref name="toRev"/>, at most <paramref name="maxCount"/>.</summary>
    public CommittedOp[] Range(long afterRev, long toRev, int maxCount)
    {
        var from = Math.Max(afterRev + 1, firstRev);
        var count = (int)Math.Max(0, Math.Min(toRev - from + 1, maxCount));
        var result = new CommittedOp[count];
        for (var i = 0; i < count; i++) result[i] = entries[(int)(from - firstRev) + i].Op;
        return result;
    }

    /// <summary>The revision at which (clientId, seq) was committed, if still in the window.</summary>
    public long? FindRev(string clientId, long seq)
    {
        for (var i = entries.Count - 1; i >= 0; i--)
        {
            var op = entries[i].Op;
            if (op.Seq == seq && op.ClientId == clientId) return op.Rev;
        }
        return null;
    }

    private readonly record struct Entry(CommittedOp Op, TextOperation? Inverse);
}
