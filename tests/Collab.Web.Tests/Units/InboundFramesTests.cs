using System.Buffers;
using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>
/// The frames a WebSocket session has read but not handled: handled one at a time in order, and bounded in bytes while
/// an earlier frame waits (the receive loop must wait for room rather than read on without bound).
/// </summary>
public sealed class InboundFramesTests
{
    private static byte[] Frame(string text)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(text.Length);
        System.Text.Encoding.ASCII.GetBytes(text, buffer);
        return buffer;
    }

    [Fact]
    public async Task Frames_are_handled_in_order_one_at_a_time_while_the_reader_goes_on()
    {
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var release = new TaskCompletionSource();
        var handled = new List<string>();
        var running = 0;
        var inbound = new InboundFrames(session, async frame =>
        {
            Assert.Equal(1, Interlocked.Increment(ref running));
            var text = System.Text.Encoding.ASCII.GetString(frame.Span);
            if (text == "first") await release.Task;
            lock (handled) handled.Add(text);
            Interlocked.Decrement(ref running);
        }, NullLogger.Instance);

        foreach (var name in new[] { "first", "second", "third" })
        {
            var buffer = Frame(name);
            await inbound.WhenRoomAsync(buffer.Length, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5));
            inbound.Enqueue(buffer, name.Length);
        }
        await Task.Delay(100);
        lock (handled) Assert.Empty(handled);
        release.SetResult();
        await inbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["first", "second", "third"], handled);
        Assert.Equal(0, inbound.HeldBytes);
    }

    [Fact]
    public async Task A_frame_the_reader_began_itself_holds_back_the_frames_read_after_it()
    {
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var handled = new List<string>();
        var inbound = new InboundFrames(session, frame =>
        {
            lock (handled) handled.Add(System.Text.Encoding.ASCII.GetString(frame.Span));
            return Task.CompletedTask;
        }, NullLogger.Instance);
        Assert.True(inbound.IsIdle);

        var slow = new TaskCompletionSource();
        inbound.EnqueueStarted(Frame("first"), slow.Task.ContinueWith(_ => { lock (handled) handled.Add("first"); }, TaskScheduler.Default));
        Assert.False(inbound.IsIdle);
        inbound.Enqueue(Frame("second"), 6);
        await Task.Delay(100);
        lock (handled) Assert.Empty(handled);

        slow.SetResult();
        await inbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(["first", "second"], handled);
        Assert.True(inbound.IsIdle);
    }

    [Fact]
    public async Task While_a_frame_waits_the_reader_may_hold_no_more_than_the_budget()
    {
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var release = new TaskCompletionSource();
        var inbound = new InboundFrames(session, _ => release.Task, NullLogger.Instance);

        // One frame is always taken, however large (it alone is bounded by MaxMessageBytes).
        var big = ArrayPool<byte>.Shared.Rent(256 * 1024);
        Assert.True(inbound.WhenRoomAsync(big.Length, CancellationToken.None).IsCompletedSuccessfully);
        inbound.Enqueue(big, big.Length);

        // With it in hand, even a small frame must wait: the budget is spent.
        var small = Frame("{\"type\":\"op\"}");
        var waiting = inbound.WhenRoomAsync(small.Length, CancellationToken.None);
        await Task.Delay(100);
        Assert.False(waiting.IsCompleted);
        Assert.Equal(big.Length, inbound.HeldBytes);

        release.SetResult();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5));
        inbound.Enqueue(small, 13);
        await inbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(0, inbound.HeldBytes);
    }

    [Fact]
    public async Task Small_frames_queue_up_to_the_budget_and_then_the_reader_waits()
    {
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var release = new TaskCompletionSource();
        var inbound = new InboundFrames(session, _ => release.Task, NullLogger.Instance);
        var taken = 0L;
        while (true)
        {
            var buffer = ArrayPool<byte>.Shared.Rent(4096);
            var room = inbound.WhenRoomAsync(buffer.Length, CancellationToken.None);
            if (!room.IsCompleted)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                break;
            }
            inbound.Enqueue(buffer, 10);
            taken += buffer.Length;
            Assert.True(taken <= InboundFrames.BudgetBytes + 4096, $"held {taken} bytes");
        }
        Assert.True(taken >= InboundFrames.BudgetBytes - 4096, $"stopped early at {taken} bytes");
        release.SetResult();
        await inbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Frames_still_queued_when_the_session_closes_are_not_handled()
    {
        var session = new Session(new FrontEndOptions(), NullLogger.Instance);
        var release = new TaskCompletionSource();
        var handled = 0;
        var inbound = new InboundFrames(session, async _ =>
        {
            Interlocked.Increment(ref handled);
            await release.Task;
        }, NullLogger.Instance);
        inbound.Enqueue(Frame("one"), 3);
        inbound.Enqueue(Frame("two"), 3);
        await Task.Delay(100);
        session.Close(CloseCodes.MessageTooBig, "too big");
        release.SetResult();
        await inbound.CompleteAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(1, handled);
        Assert.Equal(0, inbound.HeldBytes);
    }
}
