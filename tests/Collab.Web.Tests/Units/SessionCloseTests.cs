using Collab.Web.Hosting;
using Collab.Web.Protocol;
using Collab.Web.Sessions;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Collab.Web.Tests.Units;

/// <summary>The session's close state, written by the receive loop, the feed loops and the shutdown callback at once.</summary>
public sealed class SessionCloseTests
{
    [Fact]
    public async Task Concurrent_closes_agree_on_one_winner_whose_reason_every_reader_sees()
    {
        for (var round = 0; round < 500; round++)
        {
            var session = new Session(new FrontEndOptions(), NullLogger.Instance);
            using var start = new Barrier(4);
            var closers = Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            {
                start.SignalAndWait();
                return session.Close(4000 + i, $"closer {i}") ? 4000 + i : 0;
            })).ToArray();
            var winners = (await Task.WhenAll(closers)).Where(code => code != 0).ToArray();
            var winner = Assert.Single(winners);
            Assert.Equal((winner, $"closer {winner - 4000}"), session.CloseRequest);
            Assert.False(session.Outbox.TryRead(out _));
            Assert.True(session.Outbox.Completion.IsCompleted);
        }
    }

    [Fact]
    public void An_overflow_after_a_close_keeps_the_first_reason()
    {
        var session = new Session(new FrontEndOptions { SendQueueFrames = 1 }, NullLogger.Instance);
        Assert.True(session.Enqueue(Frames.Pong("1")));
        Assert.True(session.Close(CloseCodes.GoingAway, "server shutting down"));
        Assert.False(session.Enqueue(Frames.Pong("2")));
        Assert.Equal((CloseCodes.GoingAway, "server shutting down"), session.CloseRequest);
    }
}
