using System.Security.Cryptography;
using System.Text.Json;
using Collab.Contracts;
using Collab.Hosting;
using Collab.Web.Access;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Options;

namespace Collab.Web.Endpoints;

/// <summary>
/// The HTTP surface besides the WebSocket and the health probes: creating documents, reading them, and their share
/// links. Every request is authorized like a session: a share link's token (or the operator key) in
/// <c>Authorization: Bearer …</c>, never in the URL.
/// </summary>
internal static class HttpEndpoints
{
    private const int MaxCreateBodyBytes = 1024;

    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("").RequireRateLimiting(ApiRateLimit.Policy);
        MapApi(api);
    }

    private static void MapApi(IEndpointRouteBuilder app)
    {
        app.MapPost("/api/docs", CreateAsync);
        app.MapPost("/api/operations/revocations", RevokeAsync);

        app.MapGet("/api/docs/{doc}", (string doc, HttpContext context, IGrainFactory grains, AccessPolicy access, IOptions<OperationsOptions> operations) =>
            WithDocument(doc, context, grains, access, operations.Value, Permission.Read, async grain =>
            {
                var state = await grain.GetState();
                return Results.Json(new { doc, rev = state.Rev, text = state.Text });
            }, neverWritten: () => Results.Json(new { doc, rev = 0L, text = "" })));

        app.MapGet("/api/docs/{doc}/status", (string doc, HttpContext context, IGrainFactory grains, AccessPolicy access, IOptions<OperationsOptions> operations) =>
            WithDocument(doc, context, grains, access, operations.Value, Permission.Read, async grain =>
            {
                var status = grain.GetStatus();
                var stored = grains.GetGrain<IDocumentLookupGrain>(0).Measure(doc);
                var s = await status;
                // Where a document runs is an operator's business: with access control, only the operator key sees it.
                var internals = access.Mode == AccessMode.Open || HealthEndpoints.IsOperator(context.Request, operations.Value);
                return Results.Json(new
                {
                    doc,
                    rev = s.CommittedRev,
                    snapshotRev = s.SnapshotRev,
                    pendingOps = s.PendingOps,
                    silo = internals ? s.Silo : null,
                    activatedAt = s.ActivatedAt,
                    subscribedHosts = s.SubscribedHosts,
                    presences = s.Presences,
                    store = StoreJson(await stored),
                });
            }, neverWritten: () => Results.Json(new
            {
                // Not activated to answer: no silo, no activation time (sessions that joined it and wrote nothing yet are not counted).
                doc, rev = 0L, snapshotRev = 0L, pendingOps = 0, silo = (string?)null, activatedAt = (DateTime?)null, subscribedHosts = 0, presences = 0,
                store = StoreJson(new DocumentStoreUsage(0, 0, 0, 0, 0, 0, 0)),
            })));

        // The whole store's footprint: the operator's (anyone's in Open mode, like the rest of the internals).
        app.MapGet("/api/operations/store", async (HttpContext context, IGrainFactory grains, AccessPolicy access, IOptions<OperationsOptions> operations) =>
        {
            if (access.Mode != AccessMode.Open && !HealthEndpoints.IsOperator(context.Request, operations.Value))
                return Problem(401, ErrorCodes.Unauthorized, "this needs the operator key");
            try
            {
                var usage = await grains.GetGrain<IDocumentLookupGrain>(0).MeasureStore();
                return Results.Json(new { bytes = usage.Bytes, freeBytes = usage.FreeBytes, limitBytes = usage.LimitBytes });
            }
            catch (Exception e) when (e is DocumentUnavailableException or TimeoutException or OrleansException)
            {
                return Unavailable();
            }
        });

        app.MapGet("/api/docs/{doc}/links", (string doc, HttpContext context, IGrainFactory grains, AccessPolicy access, IOptions<OperationsOptions> operations) =>
            WithDocument(doc, context, grains, access, operations.Value, Permission.Owner, async grain =>
                await grain.GetAccess() is { } current ? Results.Json(Links(access, doc, current)) : NoLinks(), NoLinks));

        app.MapPost("/api/docs/{doc}/links/{kind}/rotate", (string doc, string kind, HttpContext context, IGrainFactory grains, AccessPolicy access,
            IOptions<OperationsOptions> operations) =>
        {
            LinkKind? parsed = kind switch { "owner" => LinkKind.Owner, "edit" => LinkKind.Edit, "view" => LinkKind.View, _ => null };
            if (parsed is null) return Task.FromResult(Problem(400, ErrorCodes.BadRequest, "the link kind is owner, edit or view"));
            return WithDocument(doc, context, grains, access, operations.Value, Permission.Owner, async grain =>
                await grain.RotateAccess(parsed.Value) is { } rotated ? Results.Json(Links(access, doc, rotated)) : NoLinks(), NoLinks);
        });
    }

    /// <summary><c>POST /api/docs</c> with an optional <c>{"doc":"name"}</c>: a new document and, with access control, its links.</summary>
    private static async Task<IResult> CreateAsync(HttpContext context, IGrainFactory grains, AccessPolicy access, IOptions<AccessOptions> accessOptions,
        IOptions<OperationsOptions> operations)
    {
        var isOperator = HealthEndpoints.IsOperator(context.Request, operations.Value);
        if (access.Mode != AccessMode.Open && accessOptions.Value.CreateDocuments == DocumentCreation.Operators && !isOperator)
            return Problem(401, ErrorCodes.Unauthorized, "creating documents needs the operator key (Collab:Access:CreateDocuments is Operators)");

        string? doc = null;
        if (context.Request.ContentLength is > MaxCreateBodyBytes) return Problem(413, ErrorCodes.TooLarge, $"the body is limited to {MaxCreateBodyBytes} bytes");
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(new LimitedStream(context.Request.Body, MaxCreateBodyBytes), cancellationToken: context.RequestAborted);
                if (body.RootElement.ValueKind != JsonValueKind.Object) return Problem(400, ErrorCodes.BadRequest, "the body is a JSON object such as {\"doc\":\"notes\"}");
                if (body.RootElement.TryGetProperty("doc", out var name))
                {
                    if (name.ValueKind != JsonValueKind.String) return Problem(400, ErrorCodes.BadRequest, "'doc' must be a string");
                    doc = name.GetString();
                }
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                return Problem(400, ErrorCodes.BadJson, "the body is not a JSON object of at most 1024 bytes");
            }
        }
        doc ??= NewDocumentId();
        if (!Identifiers.IsValidDocumentId(doc)) return InvalidId();

        if (access.Mode == AccessMode.Open) return Results.Json(new { doc }, statusCode: 201);
        var max = accessOptions.Value.MaxDocumentsPerOwner;
        try
        {
            if (access.Mode == AccessMode.Tokens)
            {
                // Documents need no access record here: the tokens your sign-in issues decide who may use which.
                var identity = await VerifyAsync(access, context.RequestServices.GetRequiredService<TokenSessions>(), Bearer(context.Request));
                if (isOperator) return Results.Json(new { doc }, statusCode: 201);
                if (identity is null || identity.PermissionFor(doc) < Permission.Write)
                    return Problem(401, ErrorCodes.Unauthorized, "creating a document needs a token that grants write on it");
                var counted = await grains.GetGrain<IDocumentOwnerGrain>("sub:" + identity.Subject).Create(doc, withAccess: false, max);
                return counted.Status == CreationStatus.OverQuota ? TooManyDocuments(max) : Results.Json(new { doc }, statusCode: 201);
            }
            // An operator may put access control on a document that has content already (one from Open mode), and is not counted.
            var creation = isOperator
                ? Claimed(await grains.GetGrain<IDocumentGrain>(doc).CreateAccess(claimExisting: true))
                : await grains.GetGrain<IDocumentOwnerGrain>("address:" + context.RequestServices.GetRequiredService<ConnectionLimiter>().ClientAddress(context))
                    .Create(doc, withAccess: true, max);
            return creation switch
            {
                { Status: CreationStatus.Created, Access: { } created } => Results.Json(Links(access, doc, created), statusCode: 201),
                { Status: CreationStatus.OverQuota } => TooManyDocuments(max),
                _ => Problem(409, "exists", $"'{doc}' exists already; pick another name (or leave 'doc' out for a generated one)"),
            };
        }
        catch (Exception e) when (e is DocumentUnavailableException or TimeoutException or OrleansException)
        {
            return Unavailable();
        }
    }

    private static Creation Claimed(DocumentAccess? access) => new(access is null ? CreationStatus.Exists : CreationStatus.Created, access, 0);

    // The owner is not named (an address or a subject is the caller's own business, and proxies log responses too).
    private static IResult TooManyDocuments(int max) => Problem(403, "too_many_documents",
        $"you have created {max} documents, the most this server allows one owner (Collab:Access:MaxDocumentsPerOwner); ask its operator, or reuse one");

    /// <summary>
    /// <c>POST /api/operations/revocations</c> (operator key): <c>{"token":"jti"}</c> revokes one token,
    /// <c>{"user":"sub"}</c> every token of that user issued until now; optional <c>"expiresAt"</c> (default: 24 hours),
    /// after which the entry is dropped (every token it could match must have expired by then).
    /// </summary>
    private static async Task<IResult> RevokeAsync(HttpContext context, IGrainFactory grains, AccessPolicy access, RevocationWatcher watcher,
        IOptions<OperationsOptions> operations)
    {
        if (!HealthEndpoints.IsOperator(context.Request, operations.Value)) return Problem(401, ErrorCodes.Unauthorized, "this needs the operator key");
        if (access.Mode != AccessMode.Tokens) return Problem(404, "no_tokens", "token revocation applies in Tokens mode; in Links mode rotate the document's links");
        RevocationRequest? request;
        try
        {
            request = await JsonSerializer.DeserializeAsync<RevocationRequest>(new LimitedStream(context.Request.Body, MaxCreateBodyBytes),
                new JsonSerializerOptions(JsonSerializerDefaults.Web), context.RequestAborted);
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return Problem(400, ErrorCodes.BadJson, "the body is {\"token\":\"<jti>\"} or {\"user\":\"<sub>\"}");
        }
        if (request is null || (request.Token is null) == (request.User is null) || (request.Token ?? request.User)!.Length is 0 or > 256)
            return Problem(400, ErrorCodes.BadRequest, "name exactly one of 'token' (a jti) and 'user' (a sub), at most 256 characters");
        var now = DateTimeOffset.UtcNow;
        var expiresAt = request.ExpiresAt ?? now.AddHours(24);
        if (expiresAt <= now || expiresAt > now.AddDays(366)) return Problem(400, ErrorCodes.BadRequest, "'expiresAt' must be in the future, within a year");
        var revocation = new Revocation(request.Token is not null ? RevocationKind.Token : RevocationKind.User, (request.Token ?? request.User)!, now, expiresAt);
        try
        {
            var list = await grains.GetGrain<IRevocationsGrain>(0).Revoke(revocation);
            // This front end applies it at once; the others within a second.
            await watcher.RefreshAsync();
            return Results.Json(new { revoked = request.Token is not null ? "token" : "user", value = revocation.Value, revokedAt = now, expiresAt, entries = list.Entries.Length });
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return Unavailable();
        }
    }

    private sealed record RevocationRequest(string? Token, string? User, DateTimeOffset? ExpiresAt);

    private static async Task<IResult> WithDocument(string doc, HttpContext context, IGrainFactory grains, AccessPolicy access, OperationsOptions operations,
        Permission needed, Func<IDocumentGrain, Task<IResult>> action, Func<IResult> neverWritten)
    {
        var tokens = context.RequestServices.GetRequiredService<TokenSessions>();
        return await WithDocument(doc, context, grains, access, tokens, operations, needed, action, neverWritten);
    }

    private static async Task<TokenIdentity?> VerifyAsync(AccessPolicy access, TokenSessions tokens, string? bearer)
    {
        if (bearer is null) return null;
        var (identity, _, _) = await access.Tokens.VerifyAsync(bearer);
        return identity is not null && !tokens.Revocations.IsRevoked(identity) ? identity : null;
    }

    /// <summary>
    /// Authorizes the request, then runs <paramref name="action"/> on the document's grain — or answers
    /// <paramref name="neverWritten"/> without activating it when the store has never seen the document, so reading
    /// names nobody wrote leaves no resident activation behind.
    /// </summary>
    private static async Task<IResult> WithDocument(string doc, HttpContext context, IGrainFactory grains, AccessPolicy access, TokenSessions tokens,
        OperationsOptions operations, Permission needed, Func<IDocumentGrain, Task<IResult>> action, Func<IResult> neverWritten)
    {
        if (!Identifiers.IsValidDocumentId(doc)) return InvalidId();
        if (access.Mode != AccessMode.Links && needed == Permission.Owner) return NoLinks();
        var isOperator = HealthEndpoints.IsOperator(context.Request, operations);
        var bearer = Bearer(context.Request);
        try
        {
            if (access.Mode == AccessMode.Tokens && !isOperator)
            {
                var (grant, _) = AccessPolicy.Decide(doc, await VerifyAsync(access, tokens, bearer));
                if (grant.Permission == Permission.None)
                    return Problem(401, ErrorCodes.Unauthorized, "send a valid, unexpired token that grants this document as 'Authorization: Bearer <token>'");
                if (grant.Permission < needed) return Problem(403, ErrorCodes.Forbidden, "this needs an edit link");
            }
            // A link that is not this document's (or not genuine) is refused before anything is looked up.
            if (access.Mode == AccessMode.Links && !isOperator && (bearer is null || !access.HasLinkFor(doc, [bearer])))
                return LinkNeeded();
            if (!await grains.GetGrain<IDocumentLookupGrain>(0).IsWritten(doc))
                return access.Mode == AccessMode.Links && !isOperator ? LinkNeeded() : neverWritten();

            var grain = grains.GetGrain<IDocumentGrain>(doc);
            if (access.Mode == AccessMode.Links && !isOperator)
            {
                var (grant, denial) = access.Decide(doc, [bearer!], await grain.GetAccess());
                if (grant.Permission == Permission.None)
                    return denial == Denial.Revoked ? Problem(401, ErrorCodes.Unauthorized, "this link was revoked by the document's owner") : LinkNeeded();
                if (grant.Permission < needed) return Problem(403, ErrorCodes.Forbidden, $"this needs an {(needed == Permission.Owner ? "owner" : "edit")} link");
            }
            return await action(grain);
        }
        catch (Exception e) when (e is DocumentUnavailableException or TimeoutException or OrleansException)
        {
            return Unavailable();
        }
    }

    private static object StoreJson(DocumentStoreUsage usage) => new
    {
        ops = usage.Ops,
        opBytes = usage.OpBytes,
        firstOpRev = usage.FirstOpRev,
        checkpoints = usage.Checkpoints,
        checkpointBytes = usage.CheckpointBytes,
        snapshotBytes = usage.SnapshotBytes,
        totalBytes = usage.TotalBytes,
    };

    private static IResult LinkNeeded() =>
        Problem(401, ErrorCodes.Unauthorized, "send a share link's token (the part after '#k=') as 'Authorization: Bearer <token>'");

    private static object Links(AccessPolicy access, string doc, DocumentAccess current) => new
    {
        doc,
        owner = access.Links.Mint(doc, LinkKind.Owner, current.OwnerGeneration),
        edit = access.Links.Mint(doc, LinkKind.Edit, current.EditGeneration),
        view = access.Links.Mint(doc, LinkKind.View, current.ViewGeneration),
    };

    private static string? Bearer(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        return header.StartsWith(scheme, StringComparison.Ordinal) && header.Length > scheme.Length ? header[scheme.Length..] : null;
    }

    /// <summary>96 random bits as 16 base32 characters: names nobody can guess or enumerate.</summary>
    private static string NewDocumentId()
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz234567";
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        Span<char> id = stackalloc char[16];
        for (var i = 0; i < id.Length; i++) id[i] = alphabet[bytes[i] & 31];
        return new string(id);
    }

    private static IResult NoLinks() => Problem(404, "no_links", "this document has no share links (the server runs in Open mode, or it was not created with access control)");

    private static IResult InvalidId() =>
        Results.Problem(statusCode: 400, title: "invalid document id", detail: "a document id is 1-128 characters of A-Z a-z 0-9 . _ -");

    // The document is moving to a new activation (or its silo is unreachable): a retry will succeed.
    private static IResult Unavailable() => Results.Problem(statusCode: 503, title: "document unavailable", detail: "the document is moving; retry shortly",
        extensions: new Dictionary<string, object?> { ["retryAfterMs"] = 500 });

    private static IResult Problem(int status, string code, string detail) =>
        Results.Problem(statusCode: status, title: code, detail: detail, extensions: new Dictionary<string, object?> { ["code"] = code });

    /// <summary>Reads at most <c>limit</c> bytes, then fails: a body without Content-Length cannot make the server buffer more.</summary>
    private sealed class LimitedStream(Stream inner, int limit) : Stream
    {
        private int read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => read; set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var n = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, limit + 1 - read)], cancellationToken);
            read += n;
            if (read > limit) throw new IOException("body too large");
            return n;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
