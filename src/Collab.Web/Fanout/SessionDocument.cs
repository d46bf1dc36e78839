using Collab.Web.Access;
using Collab.Web.Sessions;

namespace Collab.Web.Fanout;

/// <summary>A session's membership in one document: the revision it has been sent up to.</summary>
internal sealed class SessionDocument(Session session, string documentId, DocumentFeed feed)
{
    public Session Session { get; } = session;
    public string DocumentId { get; } = documentId;
    public DocumentFeed Feed { get; } = feed;

    /// <summary>Joined with <c>readOnly</c>, or with a credential that only reads: ops are refused with <c>forbidden</c>.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>What the session's credential allows here, and which link it came from (revoked when that link is rotated).</summary>
    public Grant Grant { get; init; } = Grant.Open;

    /// <summary>Sent in <c>joined.access</c> when access control is on: <c>view</c>, <c>edit</c> or <c>owner</c>; null in Open mode.</summary>
    public string? AccessLabel => !Grant.Controlled ? null : Grant.Permission switch
    {
        Permission.Owner => "owner",
        Permission.Write => "edit",
        _ => "view",
    };

    /// <summary>The last revision sent to the session (as <c>joined</c>, <c>op</c> or <c>ack</c>). Only the feed loop reads and writes it.</summary>
    public long Rev { get; set; } = -1;

    private readonly List<long> unanswered = [];

    /// <summary>The session sent an op with <paramref name="seq"/>; it is owed exactly one answer (ack or error).</summary>
    public void Submitted(long seq)
    {
        lock (unanswered) unanswered.Add(seq);
    }

    /// <summary>Marks one submission of <paramref name="seq"/> answered; false when none was waiting.</summary>
    public bool Answer(long seq)
    {
        lock (unanswered) return unanswered.Remove(seq);
    }

    /// <summary>Whether a submission of <paramref name="seq"/> still waits for its answer.</summary>
    public bool IsUnanswered(long seq)
    {
        lock (unanswered) return unanswered.Contains(seq);
    }
}
