using Collab.Ot;

namespace Collab.Web.Protocol;

/// <summary>
/// A full text too large for one frame, queued as one item and cut into frames only as the transport takes them: a
/// session holds one part at a time, not a copy of the text (the string itself is the grain's answer, shared by every
/// session that joined at that revision on this host).
/// </summary>
internal sealed class TextParts
{
    private readonly string doc;
    private readonly long rev;
    private readonly string? access;
    private readonly string text;
    private readonly int[] ends;
    private int next;

    public TextParts(string doc, long rev, string? access, string text, int maxFrameBytes)
    {
        this.doc = doc;
        this.rev = rev;
        this.access = access;
        this.text = text;
        ends = WireSize.Split(text, maxFrameBytes - Frames.Overhead);
    }

    /// <summary>Whether <paramref name="text"/> needs more than one frame of <paramref name="maxFrameBytes"/>.</summary>
    public static bool Needed(string text, int maxFrameBytes) => WireSize.String(text) > maxFrameBytes - Frames.Overhead;

    public int Count => ends.Length;

    /// <summary>Builds the next frame, or returns false when every part was taken.</summary>
    public bool TryNext(out byte[] frame)
    {
        if (next >= ends.Length)
        {
            frame = [];
            return false;
        }
        var start = next == 0 ? 0 : ends[next - 1];
        next++;
        frame = Frames.TextPart(doc, rev, access, text, start, ends[next - 1], next, ends.Length);
        return true;
    }
}
