using Collab.Contracts;
using Collab.Ot;

namespace Collab.Grains.Core;

/// <summary>
/// The most recent ops of a document, by revision (committed ones and the tentative ones of the batches being written):
/// late ops are transformed over them, and catch-up reads come from them.
/// </summary>
public sealed class OpWindow
{
    private readonly List<CommittedOp> entries = [];
    private long firstRev = 1;
    private long bytes;

    /// <summary>The newest revision held (or the revision the window starts after, when empty).</summary>
    public long LastRev => firstRev + entries.Count - 1;

    /// <summary>The oldest base revision an op may have and still be transformed with what the window holds.</summary>
    public long OldestBase => firstRev - 1;

    /// <summary>How many ops the window holds.</summary>
    public int Count => entries.Count;

    /// <summary>What the ops held weigh in memory (<see cref="WireSize.Memory"/>).</summary>
    public long Bytes => bytes;

    public void Reset(long rev)
    {
        entries.Clear();
        bytes = 0;
        firstRev = rev + 1;
    }

    public void Add(CommittedOp op)
    {
        if (op.Rev != LastRev + 1) throw new InvalidOperationException($"Window expected rev {LastRev + 1}, got {op.Rev}.");
        entries.Add(op);
        bytes += WireSize.Memory(op.Op);
    }

    public CommittedOp this[long rev] => entries[(int)(rev - firstRev)];

    /// <summary>
    /// Keeps at most <paramref name="keep"/> committed ops before <paramref name="committedRev"/> (trimming in chunks
    /// of half that, so the cost is amortised), and fewer when they weigh more than <paramref name="maxBytes"/>: the
    /// oldest committed ops go first; ops not yet committed always stay.
    /// </summary>
    /// <returns>Whether anything was dropped.</returns>
    public bool Trim(long committedRev, int keep, long maxBytes = long.MaxValue)
    {
        var committed = (int)Math.Min(committedRev - (firstRev - 1), entries.Count);
        var removable = Math.Min(committed - keep, entries.Count);
        if (removable < Math.Max(keep / 2, 1)) removable = 0;
        var left = bytes;
        for (var i = 0; i < removable; i++) left -= WireSize.Memory(entries[i].Op);
        while (left > maxBytes && removable < committed) left -= WireSize.Memory(entries[removable++].Op);
        if (removable <= 0) return false;
        entries.RemoveRange(0, removable);
        firstRev += removable;
        bytes = left;
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
