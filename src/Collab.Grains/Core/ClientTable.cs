using Collab.Storage;

namespace Collab.Grains.Core;

/// <summary>
/// The last op of every client that may still resend one, for dedupe: the live marks (tentative ops included) and the
/// committed ones (what a snapshot records).
/// </summary>
/// <remarks>
/// The rule (docs/architecture.md, "Dedupe horizon"): a client's mark is kept while the op it names is one of the last
/// <c>horizon</c> committed revisions. An op based before that horizon is refused as <c>stale_rev</c> whatever its seq,
/// so a resend of a forgotten op can never be applied twice: its base is older than the op it repeats. The client then
/// resumes with join+rev and finds its op in the catch-up. So the table holds at most <c>horizon</c> entries, however
/// many clients the document has ever seen.
/// </remarks>
public sealed class ClientTable
{
    private readonly Dictionary<string, ClientMark> live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ClientMark> committed = new(StringComparer.Ordinal);
    private readonly Queue<(long Rev, string ClientId)> byRev = new();

    /// <summary>Clients with a live mark.</summary>
    public int Count => live.Count;

    /// <summary>Clients with a committed mark (the size of the next snapshot's table).</summary>
    public int CommittedCount => committed.Count;

    public bool TryGet(string clientId, out ClientMark mark) => live.TryGetValue(clientId, out mark!);

    /// <summary>A mark read back from storage (snapshot or log): committed already.</summary>
    public void Restore(string clientId, ClientMark mark)
    {
        if (live.TryGetValue(clientId, out var existing) && existing.Rev >= mark.Rev) return;
        live[clientId] = committed[clientId] = mark;
        byRev.Enqueue((mark.Rev, clientId));
    }

    /// <summary>A tentative op got <paramref name="rev"/>.</summary>
    public void Assigned(string clientId, long seq, long rev)
    {
        live[clientId] = new ClientMark(seq, rev);
        byRev.Enqueue((rev, clientId));
    }

    /// <summary>A tentative op is durable.</summary>
    public void Committed(string clientId, long seq, long rev) => committed[clientId] = new ClientMark(seq, rev);

    /// <summary>Forgets the marks of ops at or before <paramref name="horizonRev"/>.</summary>
    public void Prune(long horizonRev)
    {
        while (byRev.TryPeek(out var entry) && entry.Rev <= horizonRev)
        {
            byRev.Dequeue();
            if (live.TryGetValue(entry.ClientId, out var mark) && mark.Rev == entry.Rev) live.Remove(entry.ClientId);
            if (committed.TryGetValue(entry.ClientId, out var done) && done.Rev == entry.Rev) committed.Remove(entry.ClientId);
        }
    }

    /// <summary>A copy of the committed marks, for a snapshot.</summary>
    public Dictionary<string, ClientMark> CommittedMarks() => new(committed, StringComparer.Ordinal);
}
