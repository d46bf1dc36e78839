using Collab.Contracts;
using Collab.Grains;
using Collab.Grains.Core;
using Collab.Ot;
using Collab.Web.Access;
using Collab.Web.Fanout;
using Collab.Web.Hosting;
using Collab.Web.Protocol;

namespace Collab.Web.Sessions;

/// <summary>
/// The collab.v1 conversation of one session: answers each client frame, relays ops and presence to document grains.
/// A bad frame gets an error for this session only; the documents and other sessions never see it.
/// </summary>
internal sealed partial class SessionProtocol(Session session, IGrainFactory grains, DocumentFeeds feeds, FrontEndOptions options, AccessPolicy access, TokenSessions tokens, ILogger logger)
{
    // A store outage or a moving document: short, so editing resumes soon after the store returns (each retry is one
    // failed activation attempt against a store that refuses at once).
    private const int RetryAfterMs = 250;
    private const int TimedOutRetryAfterMs = 100;

    private readonly TokenBucket rate = new(options.MessagesPerSecond, options.MessageBurst);
    // Each join may activate a document grain somewhere in the cluster: far fewer than edits.
    private readonly TokenBucket joins = new(options.JoinsPerSecond, options.JoinBurst);
    // Bytes of op frames: a few huge ops a second would otherwise pass the frame-count limit.
    private readonly TokenBucket opBytes = new(options.OpBytesPerSecond, options.OpByteBurst);

    public async Task HandleAsync(ReadOnlyMemory<byte> utf8)
    {
        FrontEndMetrics.FramesReceived.Add(1);
        FrontEndMetrics.BytesReceived.Add(utf8.Length);
        var frame = new ClientFrame();
        if (FrameReader.TryRead(utf8.Span, frame) is { } error)
        {
            Reply(Frames.Error(error.Code, error.Message, ValidDoc(frame.Doc), frame.Seq));
            return;
        }
        switch (frame.Type)
        {
            case null:
                Reply(Frames.Error(ErrorCodes.BadRequest, "a frame needs a 'type'"));
                return;
            case "ping":
                Reply(Frames.Pong(frame.T));
                return;
            case "hello":
                await HelloAsync(frame);
                return;
            case "join" or "op" or "presence" or "leave" or "auth" when session.ClientId is null:
                Reply(Frames.Error(ErrorCodes.BadRequest, $"send 'hello' with your clientId before '{frame.Type}'", ValidDoc(frame.Doc), frame.Seq));
                return;
            case "auth" when access.Mode == AccessMode.Tokens:
                await RefreshAsync(frame.Token);
                return;
            case "auth":
                if (AddCredential(frame.Token, required: true)) Reply(Frames.Authed());
                return;
            case "join" when !joins.TryTake(out var joinRetryAfterMs):
                Reply(Frames.Error(ErrorCodes.RateLimited, $"more than {options.JoinsPerSecond} joins per second; join again after retryAfterMs",
                    ValidDoc(frame.Doc), retryAfterMs: joinRetryAfterMs));
                return;
            case "join":
                await JoinAsync(frame);
                return;
            case "op" or "presence" when !rate.TryTake(out var retryAfterMs):
                Reply(Frames.Error(ErrorCodes.RateLimited, $"more than {options.MessagesPerSecond} op/presence frames per second; this frame was not applied, send it again after retryAfterMs",
                    ValidDoc(frame.Doc), frame.Seq, retryAfterMs: retryAfterMs));
                return;
            case "op" when !opBytes.TryTake(utf8.Length, TokenBucket.Now, out var bytesRetryAfterMs):
                Reply(Frames.Error(ErrorCodes.RateLimited, $"more than {options.OpBytesPerSecond} bytes of ops per second; this frame was not applied, send it again after retryAfterMs",
                    ValidDoc(frame.Doc), frame.Seq, retryAfterMs: bytesRetryAfterMs));
                return;
            case "op":
                await SubmitAsync(frame);
                return;
            case "presence":
                await PresenceAsync(frame);
                return;
            case "leave":
                await LeaveAsync(frame);
                return;
            default:
                Reply(Frames.Error(ErrorCodes.UnknownType, $"unknown frame type '{Truncate(frame.Type)}'; collab.v1 knows hello, auth, join, op, presence, leave, ping"));
                return;
        }
    }

    /// <summary>
    /// Answers a live <c>ping</c> (<c>"live": true</c>) the moment it is read, ahead of earlier frames still waiting on a
    /// grain: it tells the client the front end is alive, not that earlier frames were handled (a plain <c>ping</c> does
    /// that). Returns false for every other frame, which then goes through <see cref="HandleAsync"/> in order.
    /// </summary>
    public bool TryAnswerAtOnce(ReadOnlyMemory<byte> utf8)
    {
        // A live ping is a few dozen bytes; looking for its marker first keeps every other frame from being parsed twice.
        if (utf8.Length > 256 || utf8.Span.IndexOf("\"live\""u8) < 0) return false;
        var frame = new ClientFrame();
        if (FrameReader.TryRead(utf8.Span, frame) is not null || frame.Type != "ping" || !frame.Live) return false;
        FrontEndMetrics.FramesReceived.Add(1);
        FrontEndMetrics.BytesReceived.Add(utf8.Length);
        Reply(Frames.Pong(frame.T));
        return true;
    }

    /// <summary>Leaves every joined document (the socket closed).</summary>
    public async Task LeaveAllAsync()
    {
        tokens.Remove(session);
        foreach (var member in session.Documents.Values.ToList()) await DetachAsync(member);
    }

    private async Task HelloAsync(ClientFrame frame)
    {
        if (session.ClientId is not null)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'hello' was already sent on this socket"));
            return;
        }
        if (frame.ClientId is null || !Identifiers.IsValidClientId(frame.ClientId))
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'clientId' must be 1-64 characters of A-Z a-z 0-9 _ -"));
            return;
        }
        if (frame.HasUser)
        {
            if (!IsValidLabel(frame.UserName, 64) || !IsColor(frame.UserColor))
            {
                Reply(Frames.Error(ErrorCodes.BadRequest, "'user.name' must be at most 64 well-formed characters and 'user.color' a colour #rrggbb"));
                return;
            }
            session.User = new UserInfo(frame.UserName, frame.UserColor);
        }
        if (frame.Instance is not null && !Identifiers.IsValidClientId(frame.Instance))
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'instance' must be 1-64 characters of A-Z a-z 0-9 _ -"));
            return;
        }
        session.Instance = frame.Instance;
        if (access.Mode == AccessMode.Tokens && frame.Token is not null)
        {
            if (await VerifyAsync(frame.Token) is not { } identity) return;
            SignIn(identity);
        }
        else if (access.Mode == AccessMode.Links && frame.Token is not null && !AddCredential(frame.Token, required: true))
        {
            return;
        }
        session.ClientId = frame.ClientId;
        // The session's own tag, as the others see it: how its client recognises its ops in joined.ops.
        Reply(Frames.Welcome(session.Id, feeds.Tags.For(session.ClientKey!), options.HeartbeatMs, options.MaxMessageBytes));
    }

    /// <summary>Tokens mode: a verified, unrevoked identity, or null after replying why not.</summary>
    private async Task<TokenIdentity?> VerifyAsync(string? token)
    {
        if (token is null)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'auth' needs a 'token'"));
            return null;
        }
        var (identity, failure, reason) = await access.Tokens.VerifyAsync(token);
        if (identity is null)
        {
            Reply(Frames.Error(ErrorCodes.Unauthorized, failure == TokenFailure.Expired
                ? "your token has expired; get a new one from your sign-in"
                : $"the token was refused: {reason}"));
            return null;
        }
        if (tokens.Revocations.IsRevoked(identity))
        {
            Reply(Frames.Error(ErrorCodes.Unauthorized, "this token was revoked; sign in again"));
            return null;
        }
        return identity;
    }

    /// <summary>Takes the token's identity: its user (not the client's <c>hello.user</c>), its expiry, its revocations.</summary>
    private void SignIn(TokenIdentity identity)
    {
        session.Identity = identity;
        session.User = new UserInfo(identity.Name ?? identity.Subject, identity.Color ?? session.User?.Color);
        session.ExpireAt(identity.ExpiresAt);
        tokens.Add(session);
    }

    /// <summary>Tokens mode's <c>auth</c>: a fresh token for the same user, without reconnecting.</summary>
    private async Task RefreshAsync(string? token)
    {
        if (await VerifyAsync(token) is not { } identity) return;
        if (session.Identity is { } current && current.Subject != identity.Subject)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "a session cannot change user; reconnect to sign in as someone else"));
            return;
        }
        SignIn(identity);
        // The new token may grant less: a document it no longer allows at the level joined with ends the session.
        foreach (var member in session.Documents.Values)
        {
            if (identity.PermissionFor(member.DocumentId) >= member.Grant.Permission) continue;
            session.Close(CloseCodes.Revoked, $"your new token no longer grants '{member.DocumentId}' as before; reconnect");
            return;
        }
        // A session that said hello without a token gets a user-qualified key now: tell it its tag.
        Reply(Frames.Authed(feeds.Tags.For(session.ClientKey!)));
    }

    /// <summary>Keeps a credential for the joins to come (a link is checked against the document it is used for).</summary>
    private bool AddCredential(string? token, bool required)
    {
        if (token is null && !required) return true;
        if (token is null || token.Length is 0 or > ShareLinks.MaxLength || token.Any(c => c is < '!' or > '~'))
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, $"'token' must be 1-{ShareLinks.MaxLength} printable ASCII characters (the part of a share link after '#k=')"));
            return false;
        }
        if (session.Credentials.Contains(token)) return true;
        // Bounded: the oldest credential makes room (sessions already joined keep the grant they joined with).
        if (session.Credentials.Count >= access.MaxCredentials) session.Credentials.RemoveAt(0);
        session.Credentials.Add(token);
        return true;
    }

    /// <summary>What this session may do with the document, checked with its link generations as the grain has them now.</summary>
    private async Task<Grant?> AuthorizeAsync(string doc, long? seq)
    {
        if (access.Mode == AccessMode.Open) return Grant.Open;
        if (access.Mode == AccessMode.Tokens)
        {
            var identity = session.Identity is { } signedIn && !tokens.Revocations.IsRevoked(signedIn) ? signedIn : null;
            var decided = AccessPolicy.Decide(doc, identity);
            if (decided.Grant.Permission != Permission.None) return decided.Grant;
            Reply(Frames.Error(ErrorCodes.Unauthorized, identity is null
                ? $"sign in first: send your token in 'hello' or 'auth' before joining '{doc}'"
                : $"your token does not grant '{doc}'", doc, seq));
            return null;
        }
        DocumentAccess? current = null;
        try
        {
            if (access.HasLinkFor(doc, session.Credentials)) current = await grains.GetGrain<IDocumentGrain>(doc).GetAccess();
        }
        catch (Exception e)
        {
            LogGrainFailed(logger, doc, e);
            Reply(Frames.Error(ErrorCodes.Internal, "the document is unavailable right now; join again shortly", doc, seq, retryAfterMs: RetryAfterMs));
            return null;
        }
        var (grant, denial) = access.Decide(doc, session.Credentials, current);
        if (grant.Permission != Permission.None) return grant;
        // The same answer for "no such document" and "no credential for it": ids cannot be probed.
        Reply(Frames.Error(ErrorCodes.Unauthorized, denial == Denial.Revoked
            ? $"the link you used for '{doc}' was revoked by its owner; ask for a new one"
            : $"no credential for '{doc}': open it through a share link (or send its token in 'auth')", doc, seq));
        return null;
    }

    private async Task JoinAsync(ClientFrame frame)
    {
        if (RequireDoc(frame) is not { } doc) return;
        if (await AuthorizeAsync(doc, null) is not { } grant) return;
        if (session.Documents.TryGetValue(doc, out var existing))
        {
            // Joining again resynchronises: the old membership ends, a fresh one starts from the requested rev.
            await DetachAsync(existing, announce: false);
        }
        else if (session.Documents.Count >= options.MaxDocumentsPerSession)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, $"a socket may join at most {options.MaxDocumentsPerSession} documents; leave one first", doc));
            return;
        }

        var feed = feeds.Acquire(doc);
        var member = new SessionDocument(session, doc, feed) { ReadOnly = frame.ReadOnly || grant.Permission < Permission.Write, Grant = grant };
        try
        {
            await feed.Ready;
            var grain = grains.GetGrain<IDocumentGrain>(doc);
            if (!await grain.ClaimClient(new ClientClaim(session.ClientKey!, session.Id, feeds.HostId, session.Instance)))
            {
                feeds.Release(feed);
                Reply(Frames.Error(ErrorCodes.ClientIdInUse,
                    $"another live session holds this clientId in '{doc}': a duplicated tab takes a new clientId; your own dropped connection is released within seconds, join again after retryAfterMs",
                    doc, retryAfterMs: 1000));
                return;
            }
            var join = await grain.Join(frame.Rev);
            if (!AccessPolicy.StillValid(grant, join.Access))
            {
                // Rotated between the check and the join.
                feeds.Release(feed);
                Reply(Frames.Error(ErrorCodes.Unauthorized, $"the link you used for '{doc}' was revoked by its owner; ask for a new one", doc));
                return;
            }
            session.Documents[doc] = member;
            await feed.AttachAsync(member, join);
        }
        catch (Exception e)
        {
            session.Documents.Remove(doc);
            await feed.DetachAsync(member);
            feeds.Release(feed);
            // The claim, if it was made, must not outlive this failed join (best effort: the grain may be what failed).
            try
            {
                await grains.GetGrain<IDocumentGrain>(doc).RemovePresence(session.Id);
            }
            catch (Exception release)
            {
                LogGrainFailed(logger, doc, release);
            }
            LogGrainFailed(logger, doc, e);
            Reply(Frames.Error(ErrorCodes.Internal, "the document is unavailable right now; join again shortly", doc, retryAfterMs: RetryAfterMs));
        }
    }

    private async Task SubmitAsync(ClientFrame frame)
    {
        if (RequireJoined(frame) is not { } member) return;
        var doc = member.DocumentId;
        if (member.ReadOnly)
        {
            Reply(Frames.Error(ErrorCodes.Forbidden, member.Grant.Permission < Permission.Write
                ? $"your link to '{doc}' is view-only; ask its owner for an edit link"
                : $"this session joined '{doc}' read-only; join again without readOnly to edit", doc, frame.Seq));
            return;
        }
        if (frame.OpError is not null)
        {
            Reply(Frames.Error(ErrorCodes.BadOp, frame.OpError, doc, frame.Seq));
            return;
        }
        if (frame.Rev is not { } rev || frame.Seq is not { } seq || frame.Op is not { } op)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'op' needs 'rev' (the revision it is based on), 'seq' and 'op'", doc, frame.Seq));
            return;
        }

        // Others receive the op re-encoded (astral characters and controls escaped): it must fit their frame limit too.
        var bound = WireSize.Operation(op) + Frames.Overhead;
        if (bound > options.MaxMessageBytes)
        {
            Reply(Frames.Error(ErrorCodes.TooLarge,
                $"this op could take up to {bound} bytes in a frame (the limit is {options.MaxMessageBytes}); split it into smaller ops (see the protocol's op size rule)", doc, seq));
            return;
        }

        SubmitResult result;
        member.Submitted(seq);
        try
        {
            // Bounded: a silo that froze holds the call until the grain call timeout; the client resends the same seq sooner
            // (the document answers it once, as a duplicate if the first call did commit) and this session's next frames go on.
            var call = grains.GetGrain<IDocumentGrain>(doc).Submit(new SubmitRequest(session.ClientKey!, seq, rev, op));
            result = options.SubmitTimeoutMs > 0 ? await call.WaitAsync(TimeSpan.FromMilliseconds(options.SubmitTimeoutMs)) : await call;
        }
        catch (Exception e)
        {
            if (e is TimeoutException && options.SubmitTimeoutMs > 0) LogSubmitTimedOut(logger, doc, seq, options.SubmitTimeoutMs);
            else LogGrainFailed(logger, doc, e);
            // The call can fail after the op was committed (its silo died before replying); if its ack already
            // reached the session through the stream, that was the answer.
            // After a timeout the wait already happened: resend at once (to where the document is now, once its silo is evicted).
            if (member.Answer(seq))
                Reply(Frames.Error(ErrorCodes.Internal, "the op may not have been committed; resend it with the same seq", doc, seq,
                    retryAfterMs: e is TimeoutException && options.SubmitTimeoutMs > 0 ? TimedOutRetryAfterMs : RetryAfterMs));
            return;
        }
        if (!result.IsSuccess) member.Answer(seq);

        switch (result.Status)
        {
            case SubmitStatus.Committed:
                member.Feed.EnsureRev(result.Rev);
                break;
            case SubmitStatus.Duplicate:
                member.Feed.AckDuplicate(member, seq, result.Rev);
                break;
            case SubmitStatus.BadOp:
                Reply(Frames.Error(ErrorCodes.BadOp, result.Message ?? "invalid op", doc, seq));
                break;
            case SubmitStatus.StaleRev:
                Reply(Frames.Error(ErrorCodes.StaleRev, result.Message ?? "rev too old", doc, seq));
                break;
            case SubmitStatus.TooLarge:
                Reply(Frames.Error(ErrorCodes.TooLarge, result.Message ?? "the document would be too long", doc, seq));
                break;
            case SubmitStatus.RateLimited:
                Reply(Frames.Error(ErrorCodes.RateLimited, result.Message ?? "too many ops for this document", doc, seq, retryAfterMs: result.RetryAfterMs));
                break;
            case SubmitStatus.BadRequest:
                Reply(Frames.Error(ErrorCodes.BadRequest, result.Message ?? "bad request", doc, seq));
                break;
            default:
                Reply(Frames.Error(ErrorCodes.Internal, result.Message ?? "the op was not committed; resend it with the same seq", doc, seq, retryAfterMs: RetryAfterMs));
                break;
        }
    }

    private async Task PresenceAsync(ClientFrame frame)
    {
        if (RequireJoined(frame) is not { } member) return;
        if (frame.Rev is not { } rev || frame.Anchor is not { } anchor || frame.Head is not { } head || anchor > int.MaxValue || head > int.MaxValue)
        {
            Reply(Frames.Error(ErrorCodes.BadRequest, "'presence' needs 'rev', 'anchor' and 'head' (non-negative integers)", member.DocumentId));
            return;
        }
        var presence = new PresenceState(session.Id, session.ClientKey!, session.User, rev, (int)anchor, (int)head);
        try
        {
            await grains.GetGrain<IDocumentGrain>(member.DocumentId).SetPresence(feeds.HostId, presence);
        }
        catch (Exception e)
        {
            LogGrainFailed(logger, member.DocumentId, e);
        }
    }

    private async Task LeaveAsync(ClientFrame frame)
    {
        if (RequireJoined(frame) is not { } member) return;
        await DetachAsync(member);
        Reply(Frames.Left(member.DocumentId));
    }

    private async Task DetachAsync(SessionDocument member, bool announce = true)
    {
        session.Documents.Remove(member.DocumentId);
        await member.Feed.DetachAsync(member);
        feeds.Release(member.Feed);
        if (!announce) return;
        try
        {
            await grains.GetGrain<IDocumentGrain>(member.DocumentId).RemovePresence(session.Id);
        }
        catch (Exception e)
        {
            LogGrainFailed(logger, member.DocumentId, e);
        }
    }

    private string? RequireDoc(ClientFrame frame)
    {
        if (frame.Doc is { } doc && Identifiers.IsValidDocumentId(doc)) return doc;
        Reply(Frames.Error(ErrorCodes.BadRequest, "'doc' must be 1-128 characters of A-Z a-z 0-9 . _ -", seq: frame.Seq));
        return null;
    }

    private SessionDocument? RequireJoined(ClientFrame frame)
    {
        if (RequireDoc(frame) is not { } doc) return null;
        if (session.Documents.TryGetValue(doc, out var member)) return member;
        Reply(Frames.Error(ErrorCodes.NotJoined, $"join '{doc}' before sending '{frame.Type}' for it", doc, frame.Seq));
        return null;
    }

    private void Reply(byte[] frame) => session.Enqueue(frame);

    private static string? ValidDoc(string? doc) => doc is not null && Identifiers.IsValidDocumentId(doc) ? doc : null;

    /// <summary>A short, printable-ASCII echo of client text for error messages.</summary>
    private static string Truncate(string value)
    {
        var shown = value.Length <= 32 ? value : value[..32];
        var chars = shown.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray();
        return new string(chars) + (value.Length > 32 ? "..." : "");
    }

    /// <summary>Null, or exactly <c>#rrggbb</c>: every viewer's editor puts it into a style, so nothing else passes.</summary>
    private static bool IsColor(string? value) =>
        value is null || (value.Length == 7 && value[0] == '#' && value.AsSpan(1).ContainsAnyExcept("0123456789abcdefABCDEF") == false);

    private static bool IsValidLabel(string? value, int maxLength)
    {
        if (value is null) return true;
        if (value.Length > maxLength) return false;
        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) i++;
            else if (char.IsSurrogate(value[i]) || char.IsControl(value[i])) return false;
        }
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Grain call for document {DocumentId} failed")]
    private static partial void LogGrainFailed(ILogger logger, string documentId, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Document {DocumentId} did not answer op seq {Seq} within {TimeoutMs} ms; the client resends it")]
    private static partial void LogSubmitTimedOut(ILogger logger, string documentId, long seq, int timeoutMs);
}
