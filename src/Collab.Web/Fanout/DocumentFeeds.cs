using Collab.Contracts;
using Collab.Web.Hosting;
using Collab.Grains;
using Collab.Web.Protocol;
using Microsoft.Extensions.Options;

namespace Collab.Web.Fanout;

/// <summary>
/// This host's single observer for every document its sessions joined: one subscription (and one notification per
/// commit) per document per host, whatever the number of local sessions. Renews subscriptions before they expire and
/// drops the feeds of documents nobody here edits any more.
/// </summary>
internal sealed class DocumentFeeds : IDocumentObserver, IFeedHost, IHostedService, IDisposable
{
    private readonly IGrainFactory grains;
    private readonly ILoggerFactory loggers;
    private readonly TimeSpan renewEvery;
    private readonly Dictionary<string, DocumentFeed> feeds = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Task> unsubscribing = new(StringComparer.Ordinal);
    private readonly Lock gate = new();
    private IDocumentObserver? reference;
    private Timer? timer;

    public DocumentFeeds(IGrainFactory grains, IOptions<DocumentGrainOptions> documents, IOptions<FrontEndOptions> frontEnd, AuthorTags tags, ILoggerFactory loggers)
    {
        CallTimeout = frontEnd.Value.FeedCallTimeoutMs > 0 ? TimeSpan.FromMilliseconds(frontEnd.Value.FeedCallTimeoutMs) : Timeout.InfiniteTimeSpan;
        this.grains = grains;
        Tags = tags;
        this.loggers = loggers;
        // Renewal also re-registers the host with a document that moved to a new activation (which starts with no
        // subscribers), so it runs far more often than expiry alone would need.
        renewEvery = documents.Value.RenewalPeriod;
    }

    /// <inheritdoc />
    public TimeSpan CallTimeout { get; }

    /// <summary>Identifies this host to document grains.</summary>
    public string HostId { get; } = $"{Environment.MachineName}-{Guid.NewGuid():N}";

    /// <summary>How this host names authors in the frames it renders (one key for all its sessions).</summary>
    public AuthorTags Tags { get; }

    /// <summary>The Orleans reference grains call back on.</summary>
    public IDocumentObserver Reference => reference ??= grains.CreateObjectReference<IDocumentObserver>(this);

    /// <summary>The feed of a document, created (and subscribed) on first use; pair with <see cref="Release"/>.</summary>
    public DocumentFeed Acquire(string documentId)
    {
        DocumentFeed feed;
        Task? previous = null;
        lock (gate)
        {
            if (!feeds.TryGetValue(documentId, out feed!))
            {
                previous = unsubscribing.Remove(documentId, out var task) ? task : Task.CompletedTask;
                feed = new DocumentFeed(this, documentId, grains.GetGrain<IDocumentGrain>(documentId), loggers.CreateLogger<DocumentFeed>());
                feeds.Add(documentId, feed);
            }
            feed.References++;
        }
        // Started outside the lock, once registered: a subscribe failing at once can then unregister it.
        if (previous is not null) feed.Start(previous);
        return feed;
    }

    public void Release(DocumentFeed feed)
    {
        lock (gate)
        {
            if (--feed.References == 0) feed.IdleSince = DateTime.UtcNow;
        }
    }

    /// <summary>Removes a feed that failed to subscribe so the next join tries afresh.</summary>
    public void Forget(DocumentFeed feed)
    {
        lock (gate)
        {
            if (feeds.TryGetValue(feed.DocumentId, out var current) && current == feed) feeds.Remove(feed.DocumentId);
        }
    }

    public Task OnCommitted(string documentId, CommittedOp[] ops)
    {
        if (TryGet(documentId) is { } feed) feed.Post(ops);
        return Task.CompletedTask;
    }

    public Task OnPresence(string documentId, PresenceState? presence, string? leftSessionId)
    {
        if (TryGet(documentId) is { } feed) feed.PostPresence(presence, leftSessionId);
        return Task.CompletedTask;
    }

    public Task OnAccessChanged(string documentId, DocumentAccess access)
    {
        if (TryGet(documentId) is { } feed) feed.PostAccess(access);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        timer = new Timer(_ => Maintain(), null, renewEvery, renewEvery);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        timer?.Dispose();
        DocumentFeed[] all;
        lock (gate)
        {
            all = [.. feeds.Values];
            feeds.Clear();
        }
        foreach (var feed in all) feed.Complete();
        await Task.WhenAll(all.Select(f => f.Completion ?? Task.CompletedTask)).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    /// <summary>Renews live subscriptions and retires feeds idle for a whole renewal period (a quick rejoin keeps its feed).</summary>
    private void Maintain()
    {
        lock (gate)
        {
            var cutoff = DateTime.UtcNow - renewEvery;
            foreach (var feed in feeds.Values.ToList())
            {
                if (feed.References == 0 && feed.IdleSince <= cutoff)
                {
                    feeds.Remove(feed.DocumentId);
                    feed.Complete();
                    unsubscribing[feed.DocumentId] = feed.Completion ?? Task.CompletedTask;
                }
                else
                {
                    feed.PostRenew();
                }
            }
            foreach (var done in unsubscribing.Where(u => u.Value.IsCompleted).Select(u => u.Key).ToList()) unsubscribing.Remove(done);
        }
    }

    private DocumentFeed? TryGet(string documentId)
    {
        lock (gate)
        {
            return feeds.GetValueOrDefault(documentId);
        }
    }

    public void Dispose()
    {
        timer?.Dispose();
        if (reference is null) return;
        try
        {
            grains.DeleteObjectReference<IDocumentObserver>(this);
        }
        catch (Exception e) when (e is ArgumentException or ObjectDisposedException or InvalidOperationException)
        {
            // The runtime already went away with the silo; nothing is left to unregister.
        }
    }
}
