using System.Buffers;
using System.Diagnostics;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Collab.Ot;

namespace Collab.LoadTest;

/// <summary>
/// One collab.v1 editor on one document, small on purpose: hello, join, ops with the usual client OT (one op in flight,
/// later edits composed into a buffer, remote ops transformed over both), resends after <c>rate_limited</c> and
/// <c>internal</c>. It records when each of its ops was sent and when each remote revision arrived, for the latency
/// figures (<see cref="Latency"/>).
/// </summary>
internal sealed class LoadClient : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket socket = new();
    private readonly Channel<Outgoing> outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock gate = new();
    private readonly TaskCompletionSource welcomed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly EditGenerator edits;
    private TaskCompletionSource<ServerFrame> joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task receiving = Task.CompletedTask;
    private Task sending = Task.CompletedTask;

    private TextBuffer text = new();
    // A joined text arriving in parts (docs/protocol.md, "Large texts").
    private (ServerFrame Joined, System.Text.StringBuilder Text)? partial;
    private long rev;
    private long nextSeq = 1;
    private Pending? outstanding;
    private TextOperation? buffer;
    private int closedLoopBudget;
    private TaskCompletionSource? closedLoopDone;
    private bool stopped;

    private LoadClient(string clientId, EditGenerator edits)
    {
        ClientId = clientId;
        this.edits = edits;
    }

    public string ClientId { get; }

    public string? Doc { get; private set; }

    public string? Author { get; private set; }

    /// <summary>Stopwatch timestamps of this client's ops, by the revision the server gave them (from <c>ack</c>).</summary>
    public List<(long Rev, long SentAt)> Sent { get; } = [];

    /// <summary>Stopwatch timestamps at which other clients' ops arrived, by revision.</summary>
    public List<(long Rev, long ReceivedAt)> Received { get; } = [];

    /// <summary>Edits this client made (an edit made while an op was in flight is composed into the next op).</summary>
    public int EditsMade { get; private set; }

    /// <summary>Op frames this client sent, resends excluded.</summary>
    public int OpsSent { get; private set; }

    public int Resends { get; private set; }

    /// <summary>Ops of this client the server acknowledged so far (read while the client runs).</summary>
    public int OpsAcked
    {
        get
        {
            lock (gate) return Sent.Count;
        }
    }

    /// <summary>Error frames other than the retryable <c>rate_limited</c>/<c>internal</c>, and protocol surprises.</summary>
    public List<string> Errors { get; } = [];

    public bool IsClosed { get; private set; }

    /// <summary>Opens a socket offering collab.v1 and completes hello/welcome.</summary>
    public static async Task<LoadClient> ConnectAsync(Uri webSocketUri, string clientId, EditGenerator edits, CancellationToken cancellationToken = default)
    {
        var client = new LoadClient(clientId, edits);
        client.socket.Options.AddSubProtocol("collab.v1");
        await client.socket.ConnectAsync(webSocketUri, cancellationToken);
        client.receiving = client.ReceiveLoopAsync();
        client.sending = client.SendLoopAsync();
        client.Enqueue(Json(w =>
        {
            w.WriteString("type"u8, "hello"u8);
            w.WriteString("clientId"u8, clientId);
            w.WriteString("instance"u8, "i-" + clientId);
            w.WriteStartObject("user"u8);
            w.WriteString("name"u8, clientId);
            w.WriteString("color"u8, "#336699");
            w.WriteEndObject();
        }));
        await client.welcomed.Task.WaitAsync(ReplyTimeout, cancellationToken);
        return client;
    }

    /// <summary>Joins <paramref name="doc"/> (full text) and returns the milliseconds from sending <c>join</c> to the whole <c>joined</c> frame.</summary>
    public async Task<double> JoinAsync(string doc, CancellationToken cancellationToken = default)
    {
        Doc = doc;
        joined = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = Stopwatch.GetTimestamp();
        Enqueue(Json(w =>
        {
            w.WriteString("type"u8, "join"u8);
            w.WriteString("doc"u8, doc);
        }));
        await joined.Task.WaitAsync(ReplyTimeout, cancellationToken);
        return Stopwatch.GetElapsedTime(started).TotalMilliseconds;
    }

    /// <summary>Makes one edit now: sent at once when nothing is in flight, else composed into the buffer.</summary>
    public void Edit()
    {
        lock (gate)
        {
            if (stopped || IsClosed) return;
            EditLocked();
        }
    }

    /// <summary>
    /// Edits as fast as the server acknowledges: the next edit is made the moment the previous op's <c>ack</c> arrives.
    /// Completes after <paramref name="budget"/> ops were acknowledged, or once <see cref="Stop"/> was called and
    /// the op in flight was acknowledged.
    /// </summary>
    public Task RunClosedLoopAsync(int budget = int.MaxValue)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            closedLoopBudget = budget;
            closedLoopDone = done;
            if (budget <= 0 || stopped) done.TrySetResult();
            else EditLocked();
        }
        return done.Task;
    }

    /// <summary>No more edits from now on (ops in flight and buffered still go out).</summary>
    public void Stop()
    {
        lock (gate)
        {
            stopped = true;
            if (outstanding is null) closedLoopDone?.TrySetResult();
        }
    }

    /// <summary>True when nothing is in flight or buffered.</summary>
    public bool IsSettled
    {
        get
        {
            lock (gate) return outstanding is null && buffer is null;
        }
    }

    /// <summary>The client's revision and text, taken together.</summary>
    public (long Rev, string Text) Snapshot()
    {
        lock (gate) return (rev, text.ToString());
    }

    private void EditLocked()
    {
        var op = edits.Next(text.Length);
        text.Apply(op);
        EditsMade++;
        if (outstanding is null) SendLocked(op);
        else buffer = buffer is null ? op : buffer.Compose(op);
    }

    private void SendLocked(TextOperation op)
    {
        outstanding = new Pending(nextSeq++, op);
        OpsSent++;
        Enqueue(OpFrame(outstanding), outstanding);
    }

    private byte[] OpFrame(Pending pending) => Json(w =>
    {
        w.WriteString("type"u8, "op"u8);
        w.WriteString("doc"u8, Doc);
        w.WriteNumber("rev"u8, rev);
        w.WriteNumber("seq"u8, pending.Seq);
        w.WritePropertyName("op"u8);
        pending.Op.WriteTo(w);
    });

    private void Handle(ServerFrame frame, long receivedAt)
    {
        switch (frame.Type)
        {
            case "welcome":
                Author = frame.Author;
                welcomed.TrySetResult();
                break;
            case "joined" when frame.Parts > 1:
                partial = (frame, new System.Text.StringBuilder(frame.Text));
                break;
            case "text" when partial is { } parts:
                parts.Text.Append(frame.Text);
                if (frame.Part != frame.Parts) break;
                partial = null;
                Handle(parts.Joined.WithText(parts.Text.ToString()).WithoutParts(), receivedAt);
                break;
            case "joined":
                lock (gate)
                {
                    text = new TextBuffer(frame.Text ?? "");
                    rev = frame.Rev ?? 0;
                }
                joined.TrySetResult(frame);
                break;
            case "op":
                lock (gate) Remote(frame, receivedAt);
                break;
            case "ack":
                lock (gate) Acked(frame);
                break;
            case "error":
                Failed(frame);
                break;
        }
    }

    private void Remote(ServerFrame frame, long receivedAt)
    {
        if (frame.Rev != rev + 1 || frame.Op is null)
        {
            Errors.Add($"op frame at rev {frame.Rev} after rev {rev}");
            return;
        }
        var op = frame.Op;
        if (outstanding is not null)
        {
            (outstanding.Op, op) = TextOperation.Transform(outstanding.Op, op);
            if (buffer is not null) (buffer, op) = TextOperation.Transform(buffer, op);
        }
        text.Apply(op);
        rev = frame.Rev.Value;
        Received.Add((rev, receivedAt));
    }

    private void Acked(ServerFrame frame)
    {
        // An ack for a revision already held answers a resend of an op already acknowledged (docs/protocol.md): not news.
        if (frame.Rev <= rev && frame.Seq < (outstanding?.Seq ?? long.MaxValue)) return;
        if (outstanding is null || frame.Seq != outstanding.Seq || frame.Rev != rev + 1)
        {
            Errors.Add($"ack seq {frame.Seq} rev {frame.Rev} while at rev {rev} with seq {outstanding?.Seq} in flight");
            return;
        }
        rev = frame.Rev.Value;
        Sent.Add((rev, outstanding.SentAt));
        outstanding = null;
        if (buffer is not null)
        {
            var next = buffer;
            buffer = null;
            SendLocked(next);
            return;
        }
        if (closedLoopDone is null) return;
        if (stopped || --closedLoopBudget <= 0) closedLoopDone.TrySetResult();
        else if (!IsClosed) EditLocked();
    }

    private void Failed(ServerFrame frame)
    {
        if (frame.Code is "rate_limited" or "internal" && frame.Seq is { } seq)
        {
            _ = ResendAsync(seq, frame.RetryAfterMs ?? 100);
            return;
        }
        lock (gate) Errors.Add($"{frame.Code}: {frame.Message}");
        if (frame.Code is not null && !joined.Task.IsCompleted) joined.TrySetException(new InvalidOperationException($"join failed: {frame.Code}: {frame.Message}"));
    }

    private async Task ResendAsync(long seq, int afterMs)
    {
        await Task.Delay(Math.Max(1, afterMs));
        lock (gate)
        {
            if (outstanding is null || outstanding.Seq != seq || IsClosed) return;
            Resends++;
            Enqueue(OpFrame(outstanding), outstanding);
        }
    }

    private void Enqueue(byte[] bytes, Pending? pending = null) => outbox.Writer.TryWrite(new Outgoing(bytes, pending));

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var item in outbox.Reader.ReadAllAsync())
            {
                // Latency starts when the op frame is handed to the socket (a resend keeps the first send's time).
                if (item.Pending is { SentAt: 0 } pending) pending.SentAt = Stopwatch.GetTimestamp();
                await socket.SendAsync(item.Bytes, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            MarkClosed($"send failed: {e.Message}");
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var message = new ArrayBufferWriter<byte>(16 * 1024);
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(chunk, CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    MarkClosed(stopped ? null : $"closed by the server: {result.CloseStatus} {result.CloseStatusDescription}");
                    return;
                }
                message.Write(chunk.AsSpan(0, result.Count));
                if (!result.EndOfMessage) continue;
                var receivedAt = Stopwatch.GetTimestamp();
                Handle(ServerFrame.Parse(message.WrittenSpan), receivedAt);
                message.ResetWrittenCount();
            }
        }
        catch (Exception e) when (e is WebSocketException or ObjectDisposedException or OperationCanceledException)
        {
            MarkClosed(stopped ? null : $"receive failed: {e.Message}");
        }
        catch (Exception e) when (e is JsonException or OtException)
        {
            MarkClosed($"unreadable frame: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private void MarkClosed(string? why)
    {
        lock (gate)
        {
            if (IsClosed) return;
            IsClosed = true;
            if (why is not null) Errors.Add(why);
            closedLoopDone?.TrySetResult();
        }
        welcomed.TrySetException(new InvalidOperationException(why ?? "closed"));
        joined.TrySetException(new InvalidOperationException(why ?? "closed"));
        outbox.Writer.TryComplete();
    }

    /// <summary>One JSON object written by <paramref name="body"/>, as UTF-8.</summary>
    public static byte[] Json(Action<Utf8JsonWriter> body)
    {
        var output = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(output))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        return output.WrittenSpan.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        lock (gate) stopped = true;
        outbox.Writer.TryComplete();
        try
        {
            await sending.WaitAsync(TimeSpan.FromSeconds(5));
            if (socket.State == WebSocketState.Open)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token);
            }
            await receiving.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is WebSocketException or TimeoutException or OperationCanceledException or ObjectDisposedException)
        {
            // Closing is best effort: the run's figures are already taken.
        }
        socket.Dispose();
    }

    /// <summary>The op in flight, kept transformed to the client's current revision so a resend is correct.</summary>
    private sealed class Pending(long seq, TextOperation op)
    {
        public long Seq { get; } = seq;
        public TextOperation Op { get; set; } = op;
        public long SentAt { get; set; }
    }

    private readonly record struct Outgoing(byte[] Bytes, Pending? Pending);
}
