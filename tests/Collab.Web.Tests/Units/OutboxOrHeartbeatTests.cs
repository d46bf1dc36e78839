using System.Threading.Channels;
using Collab.Web.Sessions;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>The SSE writer's wait, on a fake clock: idle heartbeats must not pile up waiters on the outbox.</summary>
public sealed class OutboxOrHeartbeatTests
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_thousand_idle_heartbeats_leave_one_pending_read_wait()
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        var outbox = new CountingReader(channel.Reader);
        var time = new FakeTimeProvider();
        using var next = new OutboxOrHeartbeat(outbox, Period, time);

        for (var i = 0; i < 1000; i++)
        {
            var waiting = next.NextAsync(CancellationToken.None);
            Assert.False(waiting.IsCompleted);
            time.Advance(Period);
            Assert.Equal(OutboxOrHeartbeat.Next.Heartbeat, await waiting);
        }

        Assert.Equal(1, outbox.Calls);
        Assert.Equal(1, outbox.Pending);

        var frames = next.NextAsync(CancellationToken.None);
        channel.Writer.TryWrite([1]);
        Assert.Equal(OutboxOrHeartbeat.Next.Frames, await frames);
        Assert.Equal(0, outbox.Pending);
        Assert.True(channel.Reader.TryRead(out _));

        var end = next.NextAsync(CancellationToken.None);
        channel.Writer.Complete();
        Assert.Equal(OutboxOrHeartbeat.Next.Completed, await end);
        Assert.Equal(2, outbox.Calls);
        Assert.Equal(0, outbox.Pending);
    }

    [Fact]
    public async Task Frames_and_heartbeats_interleave_and_each_is_reported_once()
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        var time = new FakeTimeProvider();
        using var next = new OutboxOrHeartbeat(channel.Reader, Period, time);

        channel.Writer.TryWrite([1]);
        Assert.Equal(OutboxOrHeartbeat.Next.Frames, await next.NextAsync(CancellationToken.None));
        channel.Reader.TryRead(out _);

        // A heartbeat falls due while frames keep flowing: it is still reported, once.
        time.Advance(Period);
        Assert.Equal(OutboxOrHeartbeat.Next.Heartbeat, await next.NextAsync(CancellationToken.None));
        var waiting = next.NextAsync(CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        channel.Writer.TryWrite([2]);
        Assert.Equal(OutboxOrHeartbeat.Next.Frames, await waiting);
    }

    [Fact]
    public async Task Cancelling_the_stream_ends_the_wait_with_an_exception()
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        using var next = new OutboxOrHeartbeat(channel.Reader, Period, new FakeTimeProvider());
        using var gone = new CancellationTokenSource();

        var waiting = next.NextAsync(gone.Token);
        await gone.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }

    /// <summary>Counts read-waits started on the outbox and how many have not completed yet.</summary>
    private sealed class CountingReader(ChannelReader<byte[]> inner) : ChannelReader<byte[]>
    {
        private int pending;

        public int Calls { get; private set; }

        public int Pending => Volatile.Read(ref pending);

        public override bool TryRead(out byte[] item) => inner.TryRead(out item!);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default)
        {
            Calls++;
            Interlocked.Increment(ref pending);
            var wait = inner.WaitToReadAsync(cancellationToken).AsTask();
            wait.ContinueWith(_ => Interlocked.Decrement(ref pending), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return new ValueTask<bool>(wait);
        }
    }
}
