using Collab.Contracts;
using Collab.Web.Protocol;

namespace Collab.Web.Fanout;

/// <summary>What a <see cref="DocumentFeed"/> needs from the host that owns it: its identity towards grains, and a way out.</summary>
internal interface IFeedHost
{
    /// <summary>Identifies this host to document grains.</summary>
    string HostId { get; }

    /// <summary>How this host names authors in the frames it renders.</summary>
    AuthorTags Tags { get; }

    /// <summary>The observer grains call back on.</summary>
    IDocumentObserver Reference { get; }

    /// <summary>How long a feed waits for each grain call before it retries (<see cref="Timeout.InfiniteTimeSpan"/>: the grain call timeout alone).</summary>
    TimeSpan CallTimeout { get; }

    /// <summary>Unregisters a feed that could not subscribe, so the next join tries afresh.</summary>
    void Forget(DocumentFeed feed);
}
