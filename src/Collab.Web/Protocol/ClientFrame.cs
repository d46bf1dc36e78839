using Collab.Ot;

namespace Collab.Web.Protocol;

/// <summary>A parsed client → server frame: every field the contract defines, absent ones null.</summary>
internal sealed class ClientFrame
{
    public string? Type { get; set; }
    public string? ClientId { get; set; }
    /// <summary><c>hello</c>: the page (or program run) behind the session; the same across its reconnects.</summary>
    public string? Instance { get; set; }
    /// <summary><c>hello</c> and <c>auth</c>: a credential (a share link's secret part).</summary>
    public string? Token { get; set; }
    public string? UserName { get; set; }
    public string? UserColor { get; set; }
    public bool HasUser { get; set; }
    public string? Doc { get; set; }
    public long? Rev { get; set; }
    public long? Seq { get; set; }
    public TextOperation? Op { get; set; }
    /// <summary>Why <c>op</c> could not be parsed, when it was present but malformed.</summary>
    public string? OpError { get; set; }
    /// <summary><c>join</c> only: the session reads the document but may not edit it.</summary>
    public bool ReadOnly { get; set; }
    public long? Anchor { get; set; }
    public long? Head { get; set; }
    /// <summary>The raw JSON of <c>t</c> (number or string), echoed in <c>pong</c>.</summary>
    public string? T { get; set; }
    /// <summary><c>ping</c> only: answer at once, ahead of earlier frames still in progress (a liveness probe, not a barrier).</summary>
    public bool Live { get; set; }
}
