using System.Collections.Concurrent;
using Collab.Contracts;

namespace Collab.Grains.Tests;

/// <summary>An observer that records every notification it receives.</summary>
public sealed class RecordingObserver : IDocumentObserver
{
    public ConcurrentQueue<CommittedOp[]> Batches { get; } = new();
    public ConcurrentQueue<(PresenceState? Presence, string? Left)> Presences { get; } = new();

    public Task OnCommitted(string documentId, CommittedOp[] ops)
    {
        Batches.Enqueue(ops);
        return Task.CompletedTask;
    }

    public Task OnPresence(string documentId, PresenceState? presence, string? leftSessionId)
    {
        Presences.Enqueue((presence, leftSessionId));
        return Task.CompletedTask;
    }

    public ConcurrentQueue<DocumentAccess> AccessChanges { get; } = new();

    public Task OnAccessChanged(string documentId, DocumentAccess access)
    {
        AccessChanges.Enqueue(access);
        return Task.CompletedTask;
    }

    public long[] Revs => [.. Batches.SelectMany(b => b).Select(o => o.Rev)];

    public async Task WaitForRevAsync(long rev, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!Revs.Contains(rev))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"rev {rev} never notified; saw [{string.Join(',', Revs)}]");
            await Task.Delay(10);
        }
    }
}
