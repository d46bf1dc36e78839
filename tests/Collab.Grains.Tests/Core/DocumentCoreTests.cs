using Collab.Contracts;
using Collab.Grains.Core;
using Collab.Ot;
using Collab.Storage;
using Xunit;

namespace Collab.Grains.Tests.Core;

/// <summary>Example-based tests of <see cref="DocumentCore"/>'s decisions, driven by hand: no store, no clock, no grain.</summary>
public sealed class DocumentCoreTests
{
    private static readonly DocumentGrainOptions Options = new() { WindowSize = 16, SnapshotEvery = 10, OpsPerSecond = 1e9, OpsBurst = 1_000_000 };

    private static SubmitRequest Append(string client, long seq, long rev, int length, string text = "x") =>
        new(client, seq, rev, new TextOperationBuilder().Retain(length).Insert(text).Build());

    private static DocumentCore Empty(DocumentGrainOptions? options = null) =>
        new(new StoredDocument(DocumentSnapshot.Empty, []), options ?? Options);

    [Fact]
    public void Ops_accepted_during_a_write_join_the_next_write_and_are_answered_only_when_it_completes()
    {
        var core = Empty();
        var first = core.Submit(Append("a", 1, 0, 0), TimeSpan.Zero);
        var write1 = core.TakeWrite()!;
        var second = core.Submit(Append("b", 1, 1, 1), TimeSpan.Zero);
        var third = core.Submit(Append("c", 1, 1, 1), TimeSpan.Zero);
        Assert.Null(core.TakeWrite()); // one write in flight
        Assert.Equal([1L], write1.Ops.Select(o => o.Rev));

        var done1 = core.WriteSucceeded();
        Assert.Equal([first.Ticket], done1.Answers.Select(a => a.Ticket));
        var write2 = core.TakeWrite()!;
        Assert.Equal([2L, 3L], write2.Ops.Select(o => o.Rev));
        Assert.Equal(1, core.CommittedRev);
        Assert.Equal("x", core.CommittedText);

        var done2 = core.WriteSucceeded();
        Assert.Equal([second.Ticket, third.Ticket], done2.Answers.Select(a => a.Ticket).Order());
        Assert.Equal("xxx", core.CommittedText);
    }

    [Fact]
    public void A_resend_of_an_op_still_being_written_waits_for_that_write()
    {
        var core = Empty();
        var original = core.Submit(Append("a", 1, 0, 0), TimeSpan.Zero);
        core.TakeWrite();
        var resend = core.Submit(Append("a", 1, 0, 0), TimeSpan.Zero);
        Assert.Null(resend.Result);
        Assert.Equal(1, core.Rev); // not applied again
        var answers = core.WriteSucceeded().Answers.ToDictionary(a => a.Ticket, a => a.Result);
        Assert.Equal(new SubmitResult(SubmitStatus.Committed, 1), answers[original.Ticket]);
        Assert.Equal(new SubmitResult(SubmitStatus.Duplicate, 1), answers[resend.Ticket]);
    }

    [Fact]
    public void A_failed_write_answers_every_waiting_submit_unavailable_and_every_later_one_too()
    {
        var core = Empty();
        var waiting = new[] { core.Submit(Append("a", 1, 0, 0), TimeSpan.Zero) };
        core.TakeWrite();
        waiting = [.. waiting, core.Submit(Append("b", 1, 1, 1), TimeSpan.Zero), core.Submit(Append("a", 1, 0, 0), TimeSpan.Zero)];
        var answers = core.WriteFailed(new RevisionConflictException("fenced"));
        Assert.Equal(waiting.Select(w => w.Ticket).Order(), answers.Select(a => a.Ticket).Order());
        Assert.All(answers, a => Assert.Equal(SubmitStatus.Unavailable, a.Result.Status));
        Assert.Null(core.TakeWrite());
        Assert.Equal(SubmitStatus.Unavailable, core.Submit(Append("c", 1, 0, 0), TimeSpan.Zero).Result?.Status);
        Assert.Equal(0, core.Waiting);
    }

    [Fact]
    public void A_snapshot_is_due_every_SnapshotEvery_ops_and_never_blocks_the_next_write()
    {
        var core = Empty();
        for (var i = 0; i < 10; i++)
        {
            core.Submit(Append("a", i + 1, i, i), TimeSpan.Zero);
            core.TakeWrite();
            core.WriteSucceeded();
            if (i < 9) Assert.Null(core.TakeSnapshot());
        }
        var snapshot = core.TakeSnapshot()!;
        Assert.Equal((10L, new string('x', 10)), (snapshot.Rev, snapshot.Text));
        Assert.Null(core.TakeSnapshot(force: true)); // one at a time
        core.Submit(Append("a", 11, 10, 10), TimeSpan.Zero);
        Assert.NotNull(core.TakeWrite());            // the write goes ahead while the snapshot is in flight
        core.WriteSucceeded();
        core.SnapshotSucceeded();
        Assert.Equal(10, core.SnapshotRev);
        Assert.Equal(11, core.TakeSnapshot(force: true)!.Rev);
    }

    [Fact]
    public void The_client_table_keeps_only_the_dedupe_horizon_however_many_clients_came_and_went()
    {
        var core = Empty();
        for (var i = 0; i < 10_000; i++)
        {
            core.Submit(Append($"tab-{i}", 1, i, i), TimeSpan.Zero);
            core.TakeWrite();
            core.WriteSucceeded();
        }
        // Before the fix every clientId ever seen stayed in memory and in every snapshot: 10 000 here.
        Assert.True(core.Clients.Count <= Options.WindowSize, $"{core.Clients.Count} marks kept");
        Assert.True(core.TakeSnapshot(force: true)!.Clients.Count <= Options.WindowSize);
        Assert.True(core.WindowCount <= Options.WindowSize * 3 / 2);

        // Inside the horizon a resend is still recognised; beyond it, its base is too old to be applied again.
        Assert.Equal(new SubmitResult(SubmitStatus.Duplicate, 10_000), core.Submit(Append("tab-9999", 1, 9_999, 9_999), TimeSpan.Zero).Result);
        Assert.Equal(SubmitStatus.StaleRev, core.Submit(Append("tab-10", 1, 10, 10), TimeSpan.Zero).Result?.Status);
        Assert.Equal(10_000, core.Rev);
    }

    [Fact]
    public void Committed_text_is_kept_apart_from_the_tentative_text()
    {
        var core = Empty();
        core.Submit(Append("a", 1, 0, 0, "ab"), TimeSpan.Zero);
        core.TakeWrite();
        core.Submit(Append("a", 2, 1, 2, "cd"), TimeSpan.Zero);
        Assert.Equal(("", "abcd"), (core.CommittedText, core.TentativeText));
        core.WriteSucceeded();
        Assert.Equal("ab", core.CommittedText);
        core.TakeWrite();
        core.WriteSucceeded();
        Assert.Equal("abcd", core.CommittedText);
    }

    [Fact]
    public void The_rate_limit_runs_on_the_callers_clock()
    {
        var core = Empty(new DocumentGrainOptions { OpsPerSecond = 2, OpsBurst = 2 });
        Assert.Null(core.Submit(Append("a", 1, 0, 0), TimeSpan.FromSeconds(1)).Result);
        Assert.Null(core.Submit(Append("a", 2, 1, 1), TimeSpan.FromSeconds(1)).Result);
        var limited = core.Submit(Append("a", 3, 2, 2), TimeSpan.FromSeconds(1)).Result!;
        Assert.Equal((SubmitStatus.RateLimited, 500), (limited.Status, limited.RetryAfterMs));
        Assert.Null(core.Submit(Append("a", 3, 2, 2), TimeSpan.FromSeconds(1.5)).Result);
    }
}

/// <summary>The op window is bounded by what its ops weigh, not only by their count.</summary>
public sealed class OpWindowBytesTests
{
    [Fact]
    public void Large_committed_ops_push_old_ones_out_so_the_window_stays_within_its_byte_bound()
    {
        const long bound = 1024 * 1024;
        var options = new DocumentGrainOptions { WindowSize = 1000, WindowBytes = bound, OpsPerSecond = 1e9, OpsBurst = 1_000_000 };
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, []), options);
        var big = new string('x', 100_000); // about 200 KB in memory each
        long seq = 0;
        for (var i = 0; i < 50; i++)
        {
            // Insert 100 000 characters, then delete them: the text stays small, the ops do not.
            core.Submit(new SubmitRequest("a", ++seq, core.Rev, new TextOperationBuilder().Insert(big).Build()), TimeSpan.Zero);
            core.Submit(new SubmitRequest("a", ++seq, core.Rev, new TextOperationBuilder().Delete(big.Length).Build()), TimeSpan.Zero);
            core.TakeWrite();
            core.WriteSucceeded();
            Assert.InRange(core.WindowBytes, 0, bound);
        }
        Assert.Equal("", core.CommittedText);
        Assert.InRange(core.WindowCount, 2, 20); // far fewer than WindowSize: bytes decided
        // A late op based on a revision the window dropped is stale, not transformed over a guess.
        var stale = core.Submit(new SubmitRequest("b", 1, 1, new TextOperationBuilder().Retain(big.Length).Insert("y").Build()), TimeSpan.Zero);
        Assert.Equal(SubmitStatus.StaleRev, stale.Result?.Status);
        // One near the head is still transformed.
        var recent = core.Submit(new SubmitRequest("b", 2, core.Rev, new TextOperationBuilder().Insert("y").Build()), TimeSpan.Zero);
        Assert.Null(recent.Result);
    }

    [Fact]
    public void Ops_not_yet_committed_stay_in_the_window_whatever_they_weigh()
    {
        var options = new DocumentGrainOptions { WindowSize = 1000, WindowBytes = 64 * 1024, OpsPerSecond = 1e9, OpsBurst = 1_000_000 };
        var core = new DocumentCore(new StoredDocument(DocumentSnapshot.Empty, []), options);
        var big = new string('x', 100_000);
        core.Submit(new SubmitRequest("a", 1, 0, new TextOperationBuilder().Insert(big).Build()), TimeSpan.Zero);
        core.TakeWrite();
        // While the write is in flight, a late op based on rev 0 must still be transformed over it.
        var late = core.Submit(new SubmitRequest("b", 1, 0, new TextOperationBuilder().Insert("y").Build()), TimeSpan.Zero);
        Assert.Null(late.Result);
        Assert.Equal("y" + big, core.TentativeText);
    }
}
