using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Collab.Ot;

namespace Collab.Testing;

/// <summary>
/// One collab.v1 socket driven by OT client models: serialises writes to the socket and routes every received frame
/// of a document to that document's <see cref="OtClientModel"/>. Written from the wire contract only.
/// </summary>
public sealed class OtConnection : IAsyncDisposable
{
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private readonly ConcurrentDictionary<string, OtClientModel> models = new(StringComparer.Ordinal);
    private readonly Task pump;
    private readonly CancellationTokenSource stopping = new();
    private volatile bool disposing;
    private long lastFrameAt = Environment.TickCount64;
    private Task liveness = Task.CompletedTask;

    private OtConnection(TestClient client)
    {
        Client = client;
        pump = Task.Run(PumpAsync);
    }

    public TestClient Client { get; }

    public string ClientId => Client.ClientId;

    /// <summary>The tag this socket's front end gave the client in <c>welcome</c>.</summary>
    public string? Author => Client.Author;

    /// <summary>Error frames and protocol violations seen on this socket (a healthy run has none).</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>Completes when the socket stopped delivering frames.</summary>
    public Task Completion => pump;

    public bool IsClosed => pump.IsCompleted;

    public static async Task<OtConnection> ConnectAsync(Uri webSocketUri, string clientId, string? name = null) =>
        new(await TestClient.ConnectAsync(webSocketUri, clientId, name));

    internal void Register(OtClientModel model) => models[model.Doc] = model;

    /// <summary>When this connection gave its front end up as hung (no frame after a live ping in time), else null.</summary>
    public DateTime? GaveUpAt { get; private set; }

    /// <summary>
    /// Keeps liveness as the browser does (web/src/client/connection.ts): a live <c>ping</c> after
    /// <paramref name="silence"/> without any frame, one at a time; when nothing at all follows it within
    /// <paramref name="timeout"/>, the front end is hung and the socket is aborted (<see cref="IsClosed"/> becomes true).
    /// </summary>
    public void KeepLive(TimeSpan silence, TimeSpan timeout)
    {
        liveness = Task.Run(async () =>
        {
            long? pingedAt = null;
            try
            {
                while (!IsClosed)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, silence.TotalMilliseconds / 4)), stopping.Token);
                    var now = Environment.TickCount64;
                    var last = Interlocked.Read(ref lastFrameAt);
                    if (pingedAt is { } p && last >= p) pingedAt = null;
                    if (pingedAt is { } sent)
                    {
                        if (now - sent <= timeout.TotalMilliseconds) continue;
                        GaveUpAt = DateTime.UtcNow;
                        Abort();
                        return;
                    }
                    if (now - last < silence.TotalMilliseconds) continue;
                    pingedAt = now;
                    // Not awaited: a send stuck on a hung front end must not hold the deadline back.
                    _ = SendAsync($"{{\"type\":\"ping\",\"t\":{now},\"live\":true}}").ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    /// <summary>Sends one frame; the socket has a single writer at a time.</summary>
    public async Task SendAsync(string json)
    {
        await sendLock.WaitAsync();
        try
        {
            await Client.SendRawAsync(json);
        }
        finally
        {
            sendLock.Release();
        }
    }

    /// <summary>Drops the TCP connection without a close handshake (a crashed tab, a lost network).</summary>
    public void Abort() => Client.Socket.Abort();

    private async Task PumpAsync()
    {
        while (true)
        {
            JsonElement frame;
            try
            {
                frame = await Client.NextAsync(TimeSpan.FromHours(1));
                Interlocked.Exchange(ref lastFrameAt, Environment.TickCount64);
            }
            catch (Exception e) when (e is InvalidOperationException or TimeoutException)
            {
                if (!disposing) Problems.Enqueue($"socket of {ClientId} closed ({Client.CloseStatus})");
                return;
            }

            var type = frame.GetProperty("type").GetString();
            var doc = frame.TryGetProperty("doc", out var d) ? d.GetString() : null;
            if (type == "error")
            {
                // A retryable refusal of an op (rate_limited, or internal with retryAfterMs) is resent by its model.
                if (doc is not null && models.TryGetValue(doc, out var target) && target.TryRetryLater(frame)) continue;
                Problems.Enqueue($"{ClientId} got {frame.GetRawText()}");
                continue;
            }
            if (type is not ("joined" or "op" or "ack")) continue; // welcome, presence, pong, left: not part of the text model
            if (doc is null || !models.TryGetValue(doc, out var model))
            {
                Problems.Enqueue($"{ClientId} got a frame for a document it never joined: {frame.GetRawText()}");
                continue;
            }
            try
            {
                await model.OnFrameAsync(type, frame);
            }
            catch (Exception e)
            {
                Problems.Enqueue($"{ClientId}/{doc} could not handle {frame.GetRawText()}: {e}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        disposing = true;
        await stopping.CancelAsync();
        await Client.DisposeAsync();
        await pump.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await liveness.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        sendLock.Dispose();
        stopping.Dispose();
    }
}

/// <summary>
/// An OT client for one document, ot.js style: synchronized → awaiting ack (one op in flight) → awaiting ack with a
/// buffer of composed local edits. Local edits apply at once; an ack advances the revision and sends the buffer; a
/// remote op advances the revision, is transformed against the outstanding op and the buffer (they are 'a', so their
/// inserts go first on ties) and applied to the local text. Seqs start at 1 and increase per client and document.
/// After a reconnect, <see cref="ResumeAsync"/> joins with the last revision held; an op in <c>joined.ops</c> carrying
/// this client's id and the outstanding seq is that op's ack, and an outstanding op not found there is resent with
/// the same seq.
/// </summary>
public sealed class OtClientModel
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly object signalLock = new();
    private OtConnection connection;
    private TaskCompletionSource changed = NewSignal();
    private JoinWaiter? joinWaiter;
    private string text = "";
    private long rev;
    private TextOperation? outstanding;
    private long outstandingSeq;
    private TextOperation? buffer;
    private long lastSeq;

    private OtClientModel(OtConnection connection, string doc)
    {
        this.connection = connection;
        Doc = doc;
    }

    public string Doc { get; }

    public string ClientId => connection.ClientId;

    /// <summary>The client's tag on its current socket: own ops in <c>joined.ops</c> carry it (rule 6).</summary>
    public string? Author => connection.Author;

    public OtConnection Connection => connection;

    /// <summary>Called (under the model's lock) when one of this client's ops is acknowledged: (seq, rev).</summary>
    public Action<long, long>? Acked { get; set; }

    /// <summary>Contract violations seen by this model (gaps, unexpected acks, failed sends).</summary>
    public ConcurrentQueue<string> Problems { get; } = new();

    /// <summary>How the last <see cref="ResumeAsync"/> settled the outstanding op: found in joined.ops, resent, or none.</summary>
    public string? LastResumeOutcome { get; private set; }

    public int SendFailures { get; private set; }

    /// <summary>The seq the next sent op will carry (read it inside an <see cref="EditAsync"/> callback).</summary>
    public long NextSeq => lastSeq + 1;

    /// <summary>The last op frame sent (JSON), for tests that resend it verbatim.</summary>
    public string? LastSentFrame { get; private set; }

    public (string Text, long Rev, bool Synchronized, long? OutstandingSeq) State
    {
        get
        {
            lock (signalLock) return (text, rev, outstanding is null && buffer is null, outstanding is null ? null : outstandingSeq);
        }
    }

    /// <summary>Joins <paramref name="doc"/> fresh (full text) on <paramref name="connection"/>.</summary>
    public static async Task<OtClientModel> JoinAsync(OtConnection connection, string doc)
    {
        var model = new OtClientModel(connection, doc);
        await model.SendJoinAsync(null);
        return model;
    }

    /// <summary>Moves to a new socket (same clientId) and catches up from the last revision held.</summary>
    public async Task ResumeAsync(OtConnection newConnection)
    {
        if (newConnection.ClientId != ClientId) throw new ArgumentException("resume with the same clientId", nameof(newConnection));
        long since;
        lock (signalLock) since = rev;
        connection = newConnection;
        await SendJoinAsync(since);
    }

    /// <summary>Handles <c>joined</c> in the socket's frame order, so later frames of the document see its result.</summary>
    private async Task OnJoinedAsync(JsonElement joined, long? since)
    {
        await gate.WaitAsync();
        try
        {
            rejoining = false;
            if (!joined.TryGetProperty("ops", out var ops))
            {
                if (outstanding is not null || buffer is not null)
                    throw new Xunit.Sdk.XunitException($"joined with rev {since} gave no ops, so the pending edits of {ClientId} cannot be rebased: {Trim(joined.GetRawText())}");
                if (since is not null) Problems.Enqueue($"{ClientId}/{Doc}: joined with rev {since} returned the full text instead of ops: {Trim(joined.GetRawText())}");
                Update(() =>
                {
                    text = joined.GetProperty("text").GetString()!;
                    rev = joined.GetProperty("rev").GetInt64();
                });
                LastResumeOutcome = "none";
                return;
            }
            if (joined.GetProperty("since").GetInt64() != since) Problems.Enqueue($"joined since {joined.GetProperty("since")} but asked for {since}");
            var wasOutstanding = outstanding is not null;
            var foundOwn = false;
            foreach (var entry in ops.EnumerateArray())
            {
                var entryRev = entry.GetProperty("rev").GetInt64();
                var own = entry.GetProperty("author").GetString() == Author;
                var seq = entry.GetProperty("seq").GetInt64();
                if (entryRev != rev + 1) Problems.Enqueue($"joined.ops jumped from rev {rev} to {entryRev}");
                if (own && outstanding is not null && seq == outstandingSeq)
                {
                    foundOwn = true;
                    AcknowledgeCore(seq, entryRev, sendBuffer: false);
                }
                else
                {
                    if (own && seq <= lastSeq)
                        Problems.Enqueue($"joined.ops holds own seq {seq} at rev {entryRev}, which was not outstanding (already acknowledged?)");
                    ApplyRemoteCore(TextOperation.Parse(entry.GetProperty("op")), entryRev);
                }
            }
            if (joined.GetProperty("rev").GetInt64() != rev) Problems.Enqueue($"joined.rev {joined.GetProperty("rev")} differs from since + ops ({rev})");
            LastResumeOutcome = !wasOutstanding ? "none" : foundOwn ? "found-in-joined-ops" : "resent";

            if (outstanding is null && buffer is not null)
            {
                Update(() =>
                {
                    outstanding = buffer;
                    buffer = null;
                    outstandingSeq = ++lastSeq;
                });
            }
            if (outstanding is not null) await SendOutstandingAsync();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Makes a local edit: <paramref name="makeEdit"/> gets the current local text and returns an op on it (or null for none).</summary>
    /// <returns>The seq the op was sent with, or null when it was buffered behind the op in flight.</returns>
    public async Task<long?> EditAsync(Func<string, TextOperation?> makeEdit)
    {
        await gate.WaitAsync();
        try
        {
            var op = makeEdit(text);
            if (op is null) return null;
            Update(() => text = op.Apply(text));
            if (outstanding is not null)
            {
                Update(() => buffer = buffer is null ? op : buffer.Compose(op));
                return null;
            }
            Update(() =>
            {
                outstanding = op;
                outstandingSeq = ++lastSeq;
            });
            await SendOutstandingAsync();
            return outstandingSeq;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds for this model's state.</summary>
    public async Task WaitUntilAsync(Func<OtClientModel, bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            Task signal;
            lock (signalLock) signal = changed.Task;
            if (condition(this)) return;
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                var s = State;
                throw new TimeoutException($"{ClientId}/{Doc}: {what} did not happen within {timeout} (rev {s.Rev}, synchronized {s.Synchronized}, outstanding seq {s.OutstandingSeq}, problems: {string.Join(" | ", Problems.Concat(connection.Problems))})");
            }
            cancellationToken.ThrowIfCancellationRequested();
            await signal.WaitAsync(left, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    internal async Task OnFrameAsync(string type, JsonElement frame)
    {
        if (type == "joined")
        {
            var waiter = Interlocked.Exchange(ref joinWaiter, null);
            if (waiter is null)
            {
                Problems.Enqueue($"{ClientId}/{Doc} got an unrequested joined: {Trim(frame.GetRawText())}");
                return;
            }
            try
            {
                await OnJoinedAsync(frame, waiter.Since);
                waiter.Done.TrySetResult();
            }
            catch (Exception e)
            {
                waiter.Done.TrySetException(e);
            }
            return;
        }
        await gate.WaitAsync();
        try
        {
            // Rejoining after stale_rev: frames of the membership the new join replaces are not part of the new one.
            if (rejoining) return;
            var frameRev = frame.GetProperty("rev").GetInt64();
            if (type == "ack" && frameRev <= rev)
            {
                // An ack for a revision already held answers a resend of an op already acknowledged (docs/protocol.md):
                // not a new revision. It can only be for an op this client sent.
                if (frame.GetProperty("seq").GetInt64() > lastSeq) Problems.Enqueue($"{ClientId}/{Doc} got an old ack for a seq it never sent: {Trim(frame.GetRawText())}");
                return;
            }
            if (frameRev != rev + 1) Problems.Enqueue($"{ClientId}/{Doc} at rev {rev} got a {type} for rev {frameRev} (gap or repeat): {Trim(frame.GetRawText())}");
            if (type == "ack")
            {
                var seq = frame.GetProperty("seq").GetInt64();
                if (outstanding is null || seq != outstandingSeq)
                {
                    Problems.Enqueue($"{ClientId}/{Doc} got an ack for seq {seq} while {(outstanding is null ? "nothing" : $"seq {outstandingSeq}")} was outstanding");
                    return;
                }
                AcknowledgeCore(seq, frameRev, sendBuffer: true);
                if (outstanding is not null) await SendOutstandingAsync();
            }
            else
            {
                ApplyRemoteCore(TextOperation.Parse(frame.GetProperty("op")), frameRev);
            }
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Schedules a resend of the outstanding op (same seq) when <paramref name="error"/> says to retry it later.</summary>
    internal bool TryRetryLater(JsonElement error)
    {
        var code = error.GetProperty("code").GetString();
        if (code == "stale_rev" && error.TryGetProperty("seq", out var staleSeq) && outstanding is not null && staleSeq.GetInt64() == outstandingSeq)
        {
            // The op's base fell out of the server's window (this client was far behind): as the browser does, join
            // again with the revision held, rebase on what it missed (or find the op committed) and resend the same seq.
            Rejoins++;
            _ = Task.Run(RejoinAsync);
            return true;
        }
        if (code is not ("rate_limited" or "internal") || !error.TryGetProperty("retryAfterMs", out var after)) return false;
        if (!error.TryGetProperty("seq", out var s) || s.GetInt64() is var seq && (outstanding is null || seq != outstandingSeq)) return false;
        Retries++;
        _ = Task.Run(async () =>
        {
            await Task.Delay(Math.Clamp(after.GetInt32(), 1, 5000));
            await gate.WaitAsync();
            try
            {
                if (outstanding is not null && outstandingSeq == seq) await SendOutstandingAsync();
            }
            finally
            {
                gate.Release();
            }
        });
        return true;
    }

    /// <summary>Joins again after <c>stale_rev</c> (see <see cref="TryRetryLater"/>).</summary>
    public int Rejoins { get; private set; }

    private bool rejoining;

    private async Task RejoinAsync()
    {
        long since;
        await gate.WaitAsync();
        try
        {
            rejoining = true;
            lock (signalLock) since = rev;
        }
        finally
        {
            gate.Release();
        }
        try
        {
            await SendJoinAsync(since);
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or System.Net.WebSockets.WebSocketException)
        {
            Problems.Enqueue($"{ClientId}/{Doc} could not join again after stale_rev: {e.Message}");
        }
    }

    /// <summary>Ops resent after a retryable error.</summary>
    public int Retries { get; private set; }

    private void AcknowledgeCore(long seq, long ackRev, bool sendBuffer)
    {
        Update(() =>
        {
            rev = ackRev;
            outstanding = null;
            if (sendBuffer && buffer is not null)
            {
                outstanding = buffer;
                buffer = null;
                outstandingSeq = ++lastSeq;
            }
        });
        Acked?.Invoke(seq, ackRev);
    }

    private void ApplyRemoteCore(TextOperation remote, long remoteRev)
    {
        Update(() =>
        {
            if (outstanding is not null)
            {
                (outstanding, remote) = TextOperation.Transform(outstanding, remote);
                if (buffer is not null) (buffer, remote) = TextOperation.Transform(buffer, remote);
            }
            text = remote.Apply(text);
            rev = remoteRev;
        });
    }

    private async Task SendOutstandingAsync()
    {
        var json = new StringBuilder()
            .Append("{\"type\":\"op\",\"doc\":").Append(JsonSerializer.Serialize(Doc))
            .Append(",\"rev\":").Append(rev)
            .Append(",\"seq\":").Append(outstandingSeq)
            .Append(",\"op\":").Append(outstanding!.ToJson()).Append('}').ToString();
        LastSentFrame = json;
        try
        {
            await connection.SendAsync(json);
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or InvalidOperationException)
        {
            // The socket is gone; the op stays outstanding and is settled by ResumeAsync.
            SendFailures++;
        }
    }

    private async Task SendJoinAsync(long? since)
    {
        var waiter = new JoinWaiter(since, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        Volatile.Write(ref joinWaiter, waiter);
        connection.Register(this);
        await connection.SendAsync(since is null
            ? JsonSerializer.Serialize(new { type = "join", doc = Doc })
            : JsonSerializer.Serialize(new { type = "join", doc = Doc, rev = since.Value }));
        try
        {
            await waiter.Done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"{ClientId}: no 'joined' for {Doc} (problems: {string.Join(" | ", connection.Problems)})");
        }
    }

    private void Update(Action change)
    {
        TaskCompletionSource old;
        lock (signalLock)
        {
            change();
            old = changed;
            changed = NewSignal();
        }
        old.TrySetResult();
    }

    private static string Trim(string s) => s.Length <= 300 ? s : s[..300] + "...";

    private sealed record JoinWaiter(long? Since, TaskCompletionSource Done);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
