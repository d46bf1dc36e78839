using System.Buffers;
using System.Text.Json;
using Collab.Contracts;
using Collab.Ot;

namespace Collab.Web.Protocol;

/// <summary>
/// Builds server → client frames as UTF-8 bytes. A broadcast frame is built once per host and the same bytes are
/// queued to every local session.
/// </summary>
internal static class Frames
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static ArrayBufferWriter<byte>? buffer;

    /// <summary><c>authed</c>; in Tokens mode with the session's author tag, which signing in may have changed.</summary>
    public static byte[] Authed(string? author = null) => Build(w =>
    {
        w.WriteString("type"u8, "authed"u8);
        if (author is not null) w.WriteString("author"u8, author);
    });

    public static byte[] Welcome(string sessionId, string author, int heartbeatMs, int maxMessageBytes) => Build(w =>
    {
        w.WriteString("type"u8, "welcome"u8);
        w.WriteString("sessionId"u8, sessionId);
        w.WriteString("author"u8, author);
        w.WriteNumber("heartbeatMs"u8, heartbeatMs);
        w.WriteNumber("maxMessageBytes"u8, maxMessageBytes);
    });

    /// <summary>
    /// <c>joined</c> with the full text (when it fits one frame) or with the first <paramref name="opCount"/> ops of a
    /// catch-up (all of them by default; <see cref="JoinedOps"/> says how many fit), each op naming its author by
    /// <paramref name="tags"/>, never by clientId. A text too large for one frame goes out as <see cref="TextParts"/>.
    /// </summary>
    public static byte[] Joined(string doc, JoinResult join, AuthorTags tags, string? access = null, int? opCount = null) => Build(w =>
    {
        w.WriteString("type"u8, "joined"u8);
        w.WriteString("doc"u8, doc);
        var ops = join.Ops ?? [];
        var count = Math.Min(opCount ?? ops.Length, ops.Length);
        w.WriteNumber("rev"u8, join.Text is not null ? join.Rev : (join.Since ?? 0) + count);
        if (access is not null) w.WriteString("access"u8, access);
        if (join.Text is not null)
        {
            w.WriteString("text"u8, join.Text);
            return;
        }
        w.WriteNumber("since"u8, join.Since ?? 0);
        w.WriteStartArray("ops"u8);
        for (var i = 0; i < count; i++)
        {
            w.WriteStartObject();
            WriteCommitted(w, ops[i], tags.For(ops[i].ClientId));
            w.WriteEndObject();
        }
        w.WriteEndArray();
    });

    /// <summary>Bytes a frame may use besides its payload (type, doc id, revision, access, author tag, seq).</summary>
    public const int Overhead = 512;

    /// <summary>How many of a catch-up's ops fit one <c>joined</c> frame of at most <paramref name="maxFrameBytes"/> (at least one).</summary>
    public static int JoinedOps(CommittedOp[] ops, int maxFrameBytes)
    {
        long bytes = Overhead;
        for (var i = 0; i < ops.Length; i++)
        {
            bytes += WireSize.Operation(ops[i].Op) + 128;
            if (bytes > maxFrameBytes) return Math.Max(i, 1);
        }
        return ops.Length;
    }

    /// <summary>
    /// Part <paramref name="part"/> (1-based) of a full text sent in <paramref name="parts"/> frames: the first is a
    /// <c>joined</c> with <c>parts</c>, the others are <c>text</c> frames; the client concatenates their <c>text</c>.
    /// </summary>
    public static byte[] TextPart(string doc, long rev, string? access, string text, int start, int end, int part, int parts) => Build(w =>
    {
        w.WriteString("type"u8, part == 1 ? "joined"u8 : "text"u8);
        w.WriteString("doc"u8, doc);
        w.WriteNumber("rev"u8, rev);
        if (part == 1 && access is not null) w.WriteString("access"u8, access);
        if (part > 1) w.WriteNumber("part"u8, part);
        w.WriteNumber("parts"u8, parts);
        w.WriteString("text"u8, text.AsSpan(start, end - start));
    });

    /// <summary>An <c>op</c> broadcast; <paramref name="author"/> is the tag of the op's clientId, which stays on the server.</summary>
    public static byte[] Op(string doc, CommittedOp op, string author) => Build(w =>
    {
        w.WriteString("type"u8, "op"u8);
        w.WriteString("doc"u8, doc);
        WriteCommitted(w, op, author);
    });

    /// <summary>The fields of a committed op, shared by <c>op</c> frames and the entries of <c>joined.ops</c>.</summary>
    private static void WriteCommitted(Utf8JsonWriter w, CommittedOp op, string author)
    {
        w.WriteNumber("rev"u8, op.Rev);
        w.WritePropertyName("op"u8);
        op.Op.WriteTo(w);
        w.WriteString("author"u8, author);
        w.WriteNumber("seq"u8, op.Seq);
    }

    public static byte[] Ack(string doc, long seq, long rev) => Build(w =>
    {
        w.WriteString("type"u8, "ack"u8);
        w.WriteString("doc"u8, doc);
        w.WriteNumber("seq"u8, seq);
        w.WriteNumber("rev"u8, rev);
    });

    /// <summary>A cursor for the document's other sessions; <paramref name="author"/> is the tag of <see cref="PresenceState.ClientId"/>.</summary>
    public static byte[] Presence(string doc, PresenceState p, string author) => Build(w =>
    {
        w.WriteString("type"u8, "presence"u8);
        w.WriteString("doc"u8, doc);
        w.WriteString("sessionId"u8, p.SessionId);
        w.WriteString("author"u8, author);
        if (p.User is null) w.WriteNull("user"u8);
        else
        {
            w.WriteStartObject("user"u8);
            if (p.User.Name is not null) w.WriteString("name"u8, p.User.Name);
            if (p.User.Color is not null) w.WriteString("color"u8, p.User.Color);
            w.WriteEndObject();
        }
        w.WriteNumber("rev"u8, p.Rev);
        w.WriteNumber("anchor"u8, p.Anchor);
        w.WriteNumber("head"u8, p.Head);
    });

    public static byte[] PresenceLeft(string doc, string sessionId) => Build(w =>
    {
        w.WriteString("type"u8, "presence"u8);
        w.WriteString("doc"u8, doc);
        w.WriteString("sessionId"u8, sessionId);
        w.WriteBoolean("left"u8, true);
    });

    public static byte[] Left(string doc) => Build(w =>
    {
        w.WriteString("type"u8, "left"u8);
        w.WriteString("doc"u8, doc);
    });

    /// <summary>Fallback transport only: the first event of a stream, saying where to POST client frames and the session token their Collab-Session header carries.</summary>
    public static byte[] Transport(string postUrl, string session, int heartbeatMs) => Build(w =>
    {
        w.WriteString("type"u8, "transport"u8);
        w.WriteString("transport"u8, "sse"u8);
        w.WriteString("postUrl"u8, postUrl);
        w.WriteString("session"u8, session);
        w.WriteNumber("heartbeatMs"u8, heartbeatMs);
    });

    /// <summary>Fallback transport only: the last event of a stream, with the code a WebSocket would have closed with.</summary>
    public static byte[] Close(int code, string reason) => Build(w =>
    {
        w.WriteString("type"u8, "close"u8);
        w.WriteNumber("code"u8, code);
        w.WriteString("reason"u8, reason);
    });

    public static byte[] Pong(string? rawT) => Build(w =>
    {
        w.WriteString("type"u8, "pong"u8);
        if (rawT is not null)
        {
            w.WritePropertyName("t"u8);
            w.WriteRawValue(rawT, skipInputValidation: true);
        }
    });

    public static byte[] Error(string code, string message, string? doc = null, long? seq = null, bool fatal = false, int? retryAfterMs = null)
    {
        Hosting.FrontEndMetrics.Errors.Add(1, new KeyValuePair<string, object?>("collab.error.code", code));
        return ErrorFrame(code, message, doc, seq, fatal, retryAfterMs);
    }

    private static byte[] ErrorFrame(string code, string message, string? doc, long? seq, bool fatal, int? retryAfterMs) => Build(w =>
    {
        w.WriteString("type"u8, "error"u8);
        w.WriteString("code"u8, code);
        w.WriteString("message"u8, message);
        if (doc is not null) w.WriteString("doc"u8, doc);
        if (seq is not null) w.WriteNumber("seq"u8, seq.Value);
        if (fatal) w.WriteBoolean("fatal"u8, true);
        if (retryAfterMs is not null) w.WriteNumber("retryAfterMs"u8, retryAfterMs.Value);
    });

    private static byte[] Build(Action<Utf8JsonWriter> body)
    {
        var target = buffer ??= new ArrayBufferWriter<byte>(1024);
        target.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(target, WriterOptions))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return target.WrittenSpan.ToArray();
    }
}
