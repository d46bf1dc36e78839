namespace Collab.Storage;

/// <summary>The full text of a document at a revision, with the last committed seq of every client (for dedupe).</summary>
public sealed record DocumentSnapshot(long Rev, string Text, IReadOnlyDictionary<string, ClientMark> Clients)
{
    /// <summary>The state of a document nobody has written yet.</summary>
    public static DocumentSnapshot Empty { get; } = new(0, string.Empty, new Dictionary<string, ClientMark>());
}

/// <summary>The last op committed for a client: its seq and the revision it got.</summary>
public sealed record ClientMark(long Seq, long Rev);
