using Collab.Web.Sessions;

namespace Collab.Web.Fanout;

/// <summary>A session's membership in one document: the revision it has been sent up to.</summary>
internal sealed class SessionDocument(Session session, string documentId, DocumentFeed feed)
{
    public Session Session { get; } = session;
    public string DocumentId { get; } = documentId;
    public DocumentFeed Feed { get; } = feed;

    /// <summary>Joined with <c>readOnly</c>: ops are refused with <c>forbidden</c>.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>The last revision sent to the session (as <c>joined</c>, <c>op</c> or <c>ack</c>). Only the feed loop reads and writes it.</summary>
    public long Rev { get; set; } = -1;
}
