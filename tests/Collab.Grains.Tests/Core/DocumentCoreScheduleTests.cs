using Collab.Contracts;
using Collab.Grains.Core;
using Collab.Ot;
using Collab.Storage;
using Collab.Testing;
using Xunit;

namespace Collab.Grains.Tests.Core;

/// <summary>
/// Drives <see cref="DocumentCore"/> through seeded random schedules — submits from many clients at random bases,
/// resends, store writes completing or failing at any point, snapshots in and out of step with writes, reloads from
/// what the store holds — and checks its promises after every step. Synchronous: no store, clock or grain.
/// </summary>
public sealed class DocumentCoreScheduleTests
{
    public static IEnumerable<object[]> Schedules => Seeds.Range(300);

    [Theory]
    [MemberData(nameof(Schedules))]
    public void Every_schedule_keeps_the_core_promises(int seed)
    {
        var run = new Schedule(seed);
        try
        {
            run.Play(steps: 400);
        }
        catch (Exception e) when (e is not ScheduleException)
        {
            throw new ScheduleException($"seed {seed} failed at step {run.Step} (replay: COLLAB_SEED={seed}): {e.Message}", e);
        }
    }

    private sealed class ScheduleException(string message, Exception inner) : Exception(message, inner);

    private sealed class Schedule(int seed)
    {
        private readonly Random random = new(seed);
        private readonly DocumentGrainOptions options = new()
        {
            WindowSize = 8,
            SnapshotEvery = 5,
            OpsPerSecond = 1e9,
            OpsBurst = 1_000_000,
            MaxDocumentLength = 1_000_000,
        };
        // The store: every durable op, and the newest snapshot.
        private readonly List<CommittedOp> durable = [];
        private DocumentSnapshot snapshot = DocumentSnapshot.Empty;
        // What the test knows about the texts at each revision, to build ops valid at a chosen base.
        private readonly Dictionary<long, string> textAt = new() { [0] = "" };
        private readonly Dictionary<long, (SubmitRequest Request, string Expect)> outstanding = [];
        private readonly List<SubmitRequest> sent = [];
        private readonly Dictionary<string, long> nextSeq = [];
        private readonly HashSet<SubmitRequest> lost = [];
        private readonly Dictionary<SubmitRequest, string> builtOn = [];
        private DocumentCore core = null!;
        private StoreWrite? writing;
        private DocumentSnapshot? snapshotting;
        private long published;
        private bool failed;

        public int Step { get; private set; }

        public void Play(int steps)
        {
            core = new DocumentCore(new StoredDocument(snapshot, []), options);
            for (Step = 0; Step < steps; Step++)
            {
                var roll = random.Next(100);
                if (roll < 40) SubmitNew();
                else if (roll < 48) Resend();
                else if (roll < 60) StartWrite();
                else if (roll < 82) CompleteWrite(fail: random.Next(60) == 0);
                else if (roll < 88) StartSnapshot();
                else if (roll < 94) CompleteSnapshot(fail: random.Next(4) == 0);
                else if (roll < 97) Reload();
                else { StartWrite(); CompleteWrite(fail: false); } // a store that completes synchronously
                Check();
            }
            Drain();
            Assert.Empty(outstanding);
        }

        private void SubmitNew()
        {
            var client = $"c{random.Next(40)}";
            var seq = nextSeq[client] = nextSeq.GetValueOrDefault(client) + 1;
            // Mostly recent bases, sometimes one older than the window (stale) or ahead of the document (bad request).
            var low = Math.Max(0, core.OldestBase - 2);
            var baseRev = Math.Min(core.Rev + (random.Next(20) == 0 ? 1 : 0), low + random.Next((int)(core.Rev - low + 1)));
            var baseText = textAt.GetValueOrDefault(baseRev, textAt[Math.Min(baseRev, core.Rev)]);
            var request = new SubmitRequest(client, seq, baseRev, RandomOp(baseText));
            sent.Add(request);
            builtOn[request] = baseText;
            Decide(request, isResend: false);
        }

        private void Resend()
        {
            if (sent.Count == 0) return;
            Decide(sent[random.Next(sent.Count)], isResend: true);
        }

        private void Decide(SubmitRequest request, bool isResend)
        {
            var revBefore = core.Rev;
            var decision = core.Submit(request, TimeSpan.Zero);
            if (failed)
            {
                Assert.Equal(SubmitStatus.Unavailable, decision.Result?.Status);
                return;
            }
            if (decision.Result is { } now)
            {
                Assert.Equal(revBefore, core.Rev);
                switch (now.Status)
                {
                    case SubmitStatus.Duplicate:
                        Assert.True(isResend);
                        AssertDurable(now.Rev, request);
                        break;
                    case SubmitStatus.StaleRev:
                        Assert.True(request.BaseRev < core.OldestBase);
                        break;
                    case SubmitStatus.BadRequest:
                        Assert.True(isResend || request.BaseRev > core.Rev, now.Message);
                        break;
                    case SubmitStatus.BadOp:
                        // Only a resend can no longer fit: of an op lost with a failed write, or one first sent ahead of the
                        // document or while it was failing, built on a text that is not the document's at its base.
                        Assert.True(isResend && (lost.Contains(request) || textAt.GetValueOrDefault(request.BaseRev) != builtOn[request]), now.Message);
                        break;
                    default:
                        Assert.Fail($"unexpected immediate {now.Status}: {now.Message}");
                        break;
                }
                return;
            }
            Assert.False(outstanding.ContainsKey(decision.Ticket), "a ticket was issued twice");
            if (core.Rev == revBefore + 1)
            {
                Assert.True(request.BaseRev >= core.OldestBase, $"accepted base {request.BaseRev} below the horizon {core.OldestBase}");
                textAt[core.Rev] = core.TentativeText;
                outstanding[decision.Ticket] = (request, "committed");
            }
            else
            {
                Assert.True(isResend, "only a resend may wait without taking a revision");
                outstanding[decision.Ticket] = (request, "duplicate");
            }
        }

        private void StartWrite()
        {
            if (writing is not null)
            {
                Assert.Null(core.TakeWrite()); // one write in flight, whatever is pending
                return;
            }
            writing = core.TakeWrite();
            if (writing is null) return;
            Assert.Equal(DurableRev + 1, writing.FirstRev);
            for (var i = 1; i < writing.Ops.Count; i++) Assert.Equal(writing.Ops[i - 1].Rev + 1, writing.Ops[i].Rev);
        }

        private void CompleteWrite(bool fail)
        {
            if (writing is null) return;
            var write = writing;
            writing = null;
            if (fail)
            {
                var answers = core.WriteFailed(new RevisionConflictException("fenced"));
                failed = true;
                foreach (var answer in answers)
                {
                    Assert.True(outstanding.Remove(answer.Ticket, out var waited), "answered a ticket that was not waiting");
                    Assert.Equal(SubmitStatus.Unavailable, answer.Result.Status);
                    if (waited.Expect == "committed") lost.Add(waited.Request);
                }
                Assert.Empty(outstanding);
                return;
            }
            durable.AddRange(write.Ops);
            var outcome = core.WriteSucceeded();
            foreach (var op in outcome.Ops)
            {
                Assert.Equal(published + 1, op.Rev); // published in order, no gap, no repeat
                published = op.Rev;
            }
            Assert.Equal(DurableRev, core.CommittedRev);
            foreach (var answer in outcome.Answers)
            {
                Assert.True(outstanding.Remove(answer.Ticket, out var waited), "answered a ticket that was not waiting (or twice)");
                Assert.True(answer.Result.Status is SubmitStatus.Committed or SubmitStatus.Duplicate);
                AssertDurable(answer.Result.Rev, waited.Request);
            }
            // Whatever is still waiting waits for something not yet durable.
            Assert.True(outstanding.Count <= core.Tentative + sent.Count);
        }

        private void StartSnapshot()
        {
            if (snapshotting is not null || failed) return;
            snapshotting = core.TakeSnapshot(force: random.Next(3) == 0);
            if (snapshotting is null) return;
            Assert.Equal(Replay(snapshotting.Rev), snapshotting.Text);
            Assert.True(snapshotting.Clients.Count <= options.WindowSize, $"snapshot holds {snapshotting.Clients.Count} client marks");
        }

        private void CompleteSnapshot(bool fail)
        {
            if (snapshotting is null) return;
            if (fail) core.SnapshotFailed();
            else
            {
                if (snapshotting.Rev > snapshot.Rev) snapshot = snapshotting;
                core.SnapshotSucceeded();
                Assert.True(core.SnapshotRev >= snapshot.Rev);
            }
            snapshotting = null;
        }

        /// <summary>A new activation from what the store holds; the old one finished its writes first (or died).</summary>
        private void Reload()
        {
            Drain();
            Assert.Empty(outstanding);
            var tail = durable.Where(o => o.Rev > snapshot.Rev)
                .Select(o => new StoredOp(o.Rev, o.ClientId, o.Seq, o.Op.ToJson())).ToList();
            core = new DocumentCore(new StoredDocument(snapshot, tail), options);
            Assert.Equal(DurableRev, core.CommittedRev);
            Assert.Equal(Replay(DurableRev), core.CommittedText);
            foreach (var rev in textAt.Keys.Where(r => r > DurableRev).ToList()) textAt.Remove(rev);
            writing = null;
            snapshotting = null;
            failed = false;
        }

        private void Drain()
        {
            CompleteSnapshot(fail: false);
            while (!failed)
            {
                StartWrite();
                if (writing is null) break;
                CompleteWrite(fail: false);
            }
            if (failed) Assert.Empty(outstanding);
        }

        private void Check()
        {
            Assert.Equal(DurableRev, core.CommittedRev);
            if (!failed) Assert.Equal(Replay(DurableRev), core.CommittedText);
            // Bounded whatever the history: the window and the client table follow the horizon, not the clients ever seen.
            Assert.True(core.WindowCount <= options.WindowSize * 3 / 2 + core.Tentative + 1, $"window holds {core.WindowCount}");
            Assert.True(core.Clients.Count <= options.WindowSize + core.Tentative, $"client table holds {core.Clients.Count}");
            // Nothing applied twice: each (client, seq) is in the log at most once.
            Assert.Equal(durable.Count, durable.Select(o => (o.ClientId, o.Seq)).Distinct().Count());
        }

        private void AssertDurable(long rev, SubmitRequest request)
        {
            Assert.True(rev <= DurableRev, $"answered rev {rev} before it was durable (store at {DurableRev})");
            var op = durable[(int)rev - 1];
            Assert.Equal((request.ClientId, request.Seq), (op.ClientId, op.Seq));
        }

        private long DurableRev => durable.Count;

        private string Replay(long rev)
        {
            var text = "";
            for (var i = 0; i < rev; i++) text = durable[i].Op.Apply(text);
            return text;
        }

        private TextOperation RandomOp(string text)
        {
            var at = random.Next(text.Length + 1);
            var builder = new TextOperationBuilder().Retain(at);
            var delete = Math.Min(text.Length - at, random.Next(3) == 0 ? random.Next(4) : 0);
            if (delete > 0) builder.Delete(delete);
            builder.Insert(((char)('a' + random.Next(26))).ToString());
            return builder.Retain(text.Length - at - delete).Build();
        }
    }
}
