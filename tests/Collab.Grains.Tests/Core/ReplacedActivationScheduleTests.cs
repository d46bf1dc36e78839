using Collab.Contracts;
using Collab.Grains.Core;
using Collab.Ot;
using Collab.Storage;
using Collab.Testing;
using Xunit;

namespace Collab.Grains.Tests.Core;

/// <summary>
/// Split brain at every step of the commit path: seeded random schedules in which new activations of one document
/// appear at any moment beside the old ones (which keep running, as a frozen silo's do when it wakes up), each one
/// claiming the document and loading it as <see cref="DocumentGrain"/> does, while clients submit, resend after
/// <c>Unavailable</c> and move to the newest activation, and writes start, complete, fail or are fenced in any order.
/// The store is a model of the <see cref="IDocumentStore"/> contract's fence (writer epoch, then revision).
/// Promises checked after every step: one history (every activation's committed text is a prefix of the store's); an
/// activation that was replaced never appends again; every acknowledgement is durable at its revision; nothing is
/// stored twice; and at the end no client is stuck: every op each client sent is acknowledged exactly once.
/// </summary>
public sealed class ReplacedActivationScheduleTests
{
    public static IEnumerable<object[]> Schedules => Seeds.Range(300);

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Every_schedule_keeps_one_writer_one_history_and_no_client_stuck(int seed)
    {
        var run = new Schedule(seed);
        try
        {
            run.Play(steps: 300);
        }
        catch (Exception e) when (e is not ScheduleException)
        {
            throw new ScheduleException($"seed {seed} failed at step {run.Step} (replay: COLLAB_SEED={seed}): {e.Message}", e);
        }
    }

    private sealed class ScheduleException(string message, Exception inner) : Exception(message, inner);

    /// <summary>The store: the contract's fence, synchronous.</summary>
    private sealed class ModelStore
    {
        public List<CommittedOp> Log { get; } = [];
        public DocumentSnapshot Snapshot { get; private set; } = DocumentSnapshot.Empty;
        public long Epoch { get; private set; }
        public long Head => Math.Max(Log.Count, Snapshot.Rev);

        public long Claim() => Log.Count > 0 || Snapshot.Rev > 0 || Epoch > 0 ? ++Epoch : 0;

        public void Append(IReadOnlyList<CommittedOp> ops, long writerEpoch)
        {
            if (writerEpoch != Epoch) throw new WriterFencedException("doc", writerEpoch, Epoch);
            if (ops[0].Rev != Head + 1) throw new RevisionConflictException("doc", ops[0].Rev - 1, Head);
            Log.AddRange(ops);
        }

        public void Save(DocumentSnapshot snapshot)
        {
            if (snapshot.Rev > Snapshot.Rev) Snapshot = snapshot;
        }

        public StoredDocument Load() => new(Snapshot,
            [.. Log.Where(o => o.Rev > Snapshot.Rev).Select(o => new StoredOp(o.Rev, o.ClientId, o.Seq, o.Op.ToJson()))]);

        public string TextAt(long rev)
        {
            var text = "";
            for (var i = 0; i < rev; i++) text = Log[i].Op.Apply(text);
            return text;
        }
    }

    /// <summary>One activation: the core and what <see cref="DocumentGrain"/> keeps beside it.</summary>
    private sealed class Activation(int id, DocumentCore core, long epoch)
    {
        public int Id { get; } = id;
        public DocumentCore Core { get; } = core;
        public long Epoch { get; } = epoch;
        public StoreWrite? Writing { get; set; }
        public DocumentSnapshot? Snapshotting { get; set; }
        /// <summary>Tickets waiting for a write, and whose op they answer.</summary>
        public Dictionary<long, Client> Waiting { get; } = [];
        /// <summary>Set once a newer activation claimed the document with a higher epoch: it must never append again.</summary>
        public bool Replaced { get; set; }
        public bool Stopped => Core.Failure is not null;
    }

    /// <summary>A client: one op in flight at a time (resent with the same seq and base until it is acknowledged).</summary>
    private sealed class Client(string id)
    {
        public string Id { get; } = id;
        public long Seq { get; set; }
        public long KnownRev { get; set; }
        public SubmitRequest? Outstanding { get; set; }
        public Activation? WaitingOn { get; set; }
        public Activation? At { get; set; }
        public List<(long Seq, long Rev)> Acked { get; } = [];
    }

    private sealed class Schedule(int seed)
    {
        private readonly Random random = new(seed);
        private readonly DocumentGrainOptions options = new()
        {
            WindowSize = 10_000,
            SnapshotEvery = 4,
            OpsPerSecond = 1e9,
            OpsBurst = 1_000_000,
            MaxDocumentLength = 1_000_000,
        };
        private readonly ModelStore store = new();
        private readonly List<Activation> activations = [];
        private readonly List<Client> clients = [];
        private int nextActivation;

        public int Step { get; private set; }

        private Activation Newest => activations[^1];

        public void Play(int steps)
        {
            for (var i = 0; i < 6; i++) clients.Add(new Client($"c{i}"));
            // A fresh document: activations that find the store empty are not claimed (epoch 0) and race by revision alone;
            // often two or three of them start before anything is written, their clients spread over them.
            var start = 1 + random.Next(3);
            for (var i = 0; i < start; i++) Activate();
            foreach (var client in clients) client.At = Pick(activations);
            for (Step = 0; Step < steps; Step++)
            {
                var roll = random.Next(100);
                if (roll < 30) Send(Pick(clients));
                else if (roll < 45) StartWrite(Pick(activations));
                else if (roll < 70) CompleteWrite(Pick(activations), transientFailure: random.Next(40) == 0);
                else if (roll < 76) Snapshot(Pick(activations));
                else if (roll < 82 && activations.Count(a => !a.Stopped) < 3) Activate();
                else if (roll < 88) Move(Pick(clients));
                else if (roll < 92) Retire();
                else { var a = Pick(activations); StartWrite(a); CompleteWrite(a, transientFailure: false); }
                Check();
            }
            Drain();
        }

        private T Pick<T>(List<T> items) => items[random.Next(items.Count)];

        /// <summary>As <see cref="DocumentGrain"/> activates: claim, then load.</summary>
        private void Activate()
        {
            var epoch = store.Claim();
            var activation = new Activation(nextActivation++, new DocumentCore(store.Load(), options), epoch);
            if (epoch > 0) foreach (var older in activations) older.Replaced = true;
            activations.Add(activation);
            Assert.Equal(store.Head, activation.Core.CommittedRev);
        }

        /// <summary>A stopped activation with nothing in flight is gone (Orleans deactivated it).</summary>
        private void Retire()
        {
            activations.RemoveAll(a => a.Stopped && a.Writing is null && a.Waiting.Count == 0 && a != Newest && clients.All(c => c.At != a));
        }

        private void Move(Client client)
        {
            if (client.WaitingOn is null) client.At = Newest;
        }

        private void Send(Client client)
        {
            if (client.WaitingOn is not null) return;
            var at = client.At!;
            if (client.Outstanding is null)
            {
                // A new op at a revision the client knows to be durable, so the test knows its text.
                var text = store.TextAt(client.KnownRev);
                var position = random.Next(text.Length + 1);
                var op = new TextOperationBuilder().Retain(position).Insert($"<{client.Id}.{client.Seq + 1}>").Retain(text.Length - position).Build();
                client.Outstanding = new SubmitRequest(client.Id, ++client.Seq, client.KnownRev, op);
            }
            var request = client.Outstanding;
            var decision = at.Core.Submit(request, TimeSpan.Zero);
            if (decision.Ahead)
            {
                // What the grain does: the store says whether another activation wrote what the client saw.
                Assert.True(store.Head > at.Core.Rev, $"client {client.Id} at rev {request.BaseRev} is ahead of the store too ({store.Head})");
                Answer(at, at.Core.Superseded(new InvalidOperationException("superseded")));
                decision = at.Core.Submit(request, TimeSpan.Zero);
                Assert.Equal(SubmitStatus.Unavailable, decision.Result?.Status);
            }
            if (decision.Result is { } now)
            {
                Answered(client, now);
                return;
            }
            client.WaitingOn = at;
            at.Waiting.Add(decision.Ticket, client);
        }

        private void StartWrite(Activation activation)
        {
            if (activation.Writing is not null) return;
            activation.Writing = activation.Core.TakeWrite();
        }

        private void CompleteWrite(Activation activation, bool transientFailure)
        {
            if (activation.Writing is not { } write) return;
            activation.Writing = null;
            try
            {
                if (transientFailure) throw new IOException("the store failed");
                store.Append(write.Ops, activation.Epoch);
            }
            catch (Exception e) when (e is WriterFencedException or RevisionConflictException or IOException)
            {
                Answer(activation, activation.Core.WriteFailed(e));
                return;
            }
            Assert.False(activation.Replaced, $"activation {activation.Id} (epoch {activation.Epoch}) appended after a newer one claimed the document");
            var outcome = activation.Core.WriteSucceeded();
            Answer(activation, outcome.Answers);
        }

        private void Snapshot(Activation activation)
        {
            if (activation.Snapshotting is { } pending)
            {
                store.Save(pending);
                activation.Core.SnapshotSucceeded();
                activation.Snapshotting = null;
                return;
            }
            activation.Snapshotting = activation.Core.TakeSnapshot();
        }

        private void Answer(Activation activation, IReadOnlyList<Answer> answers)
        {
            foreach (var answer in answers)
            {
                Assert.True(activation.Waiting.Remove(answer.Ticket, out var client), "answered a ticket that was not waiting (or twice)");
                client.WaitingOn = null;
                Answered(client, answer.Result);
            }
        }

        private void Answered(Client client, SubmitResult result)
        {
            var request = client.Outstanding!;
            switch (result.Status)
            {
                case SubmitStatus.Committed or SubmitStatus.Duplicate:
                    Assert.True(result.Rev <= store.Log.Count, $"acknowledged rev {result.Rev} before it was durable (store at {store.Log.Count})");
                    var op = store.Log[(int)result.Rev - 1];
                    Assert.Equal((request.ClientId, request.Seq), (op.ClientId, op.Seq));
                    client.Acked.Add((request.Seq, result.Rev));
                    client.KnownRev = Math.Max(client.KnownRev, result.Rev);
                    client.Outstanding = null;
                    break;
                case SubmitStatus.Unavailable:
                    // Resend the same seq to the newest activation; when that one is stopped too, a new one comes.
                    if (Newest.Stopped) Activate();
                    client.At = Newest;
                    break;
                case SubmitStatus.StaleRev:
                    // A fresh activation holds ops from its snapshot on: the client rejoins as the browser does, catching
                    // up from the log. Its own op among them was committed; otherwise it is rebased on the head (same seq).
                    Assert.True(request.BaseRev < client.At!.Core.OldestBase, result.Message);
                    var caughtUp = store.Log.Skip((int)request.BaseRev).ToList();
                    if (caughtUp.FirstOrDefault(o => o.ClientId == client.Id && o.Seq == request.Seq) is { } mine)
                    {
                        client.Acked.Add((request.Seq, mine.Rev));
                        client.KnownRev = Math.Max(client.KnownRev, mine.Rev);
                        client.Outstanding = null;
                        break;
                    }
                    var rebased = request.Op;
                    foreach (var other in caughtUp) rebased = TextOperation.Transform(rebased, other.Op).APrime;
                    client.Outstanding = request with { BaseRev = store.Log.Count, Op = rebased };
                    client.KnownRev = store.Log.Count;
                    break;
                default:
                    Assert.Fail($"client {client.Id} seq {request.Seq} at rev {request.BaseRev} got {result.Status}: {result.Message}");
                    break;
            }
        }

        private void Check()
        {
            // One history: whatever each activation committed is a prefix of the store's log.
            foreach (var a in activations)
            {
                Assert.True(a.Core.CommittedRev <= store.Head, $"activation {a.Id} committed rev {a.Core.CommittedRev} beyond the store ({store.Head})");
                Assert.Equal(store.TextAt(a.Core.CommittedRev), a.Core.CommittedText);
            }
            Assert.Equal(store.Log.Count, store.Log.Select(o => (o.ClientId, o.Seq)).Distinct().Count());
            Assert.Equal(Enumerable.Range(1, store.Log.Count).Select(r => (long)r), store.Log.Select(o => o.Rev));
        }

        /// <summary>The load stops; every write completes; every client resends until acknowledged (bounded rounds: none is stuck).</summary>
        private void Drain()
        {
            for (var round = 0; round < 20 && clients.Any(c => c.Outstanding is not null); round++)
            {
                foreach (var a in activations.ToList())
                {
                    while (true)
                    {
                        StartWrite(a);
                        if (a.Writing is null) break;
                        CompleteWrite(a, transientFailure: false);
                    }
                }
                foreach (var client in clients.Where(c => c.Outstanding is not null && c.WaitingOn is null)) Send(client);
                Check();
            }
            Assert.All(clients, c => Assert.Null(c.Outstanding));
            foreach (var client in clients)
            {
                // Every op the client made was acknowledged once, each at a distinct durable revision.
                Assert.Equal(Enumerable.Range(1, (int)client.Seq).Select(s => (long)s), client.Acked.Select(a => a.Seq));
                Assert.Equal(client.Seq, store.Log.Count(o => o.ClientId == client.Id));
            }
            var last = Newest;
            if (!last.Stopped) Assert.Equal(store.TextAt(store.Log.Count), last.Core.CommittedText);
        }
    }
}
