namespace Collab.Grains;

/// <summary>Tuning of document grains, bound from <c>Collab:Documents</c>.</summary>
public sealed class DocumentGrainOptions
{
    public const string Section = "Collab:Documents";

    /// <summary>How many committed ops stay in memory for transforming late ops and for catch-up.</summary>
    public int WindowSize { get; set; } = 1000;

    /// <summary>
    /// The most the committed ops of the window may weigh in memory (inserted text at 2 bytes a character, plus
    /// overhead): large ops push old ones out before <see cref="WindowSize"/> is reached, so a lagging op may get
    /// <c>stale_rev</c> sooner.
    /// </summary>
    public long WindowBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>A snapshot is written after this many ops (and when the document goes idle), so loading stays cheap.</summary>
    public int SnapshotEvery { get; set; } = 1000;

    /// <summary>
    /// A snapshot is also kept as a history checkpoint (which compaction folds older ops into) after this many bytes of
    /// ops, or after <see cref="SnapshotEvery"/> ops that together weigh at least the text.
    /// </summary>
    public long CheckpointBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>The longest a document may grow, in UTF-16 code units.</summary>
    public int MaxDocumentLength { get; set; } = 8 * 1024 * 1024;

    /// <summary>Sustained ops per second one document accepts from all its editors together (beyond: <c>rate_limited</c>).</summary>
    public double OpsPerSecond { get; set; } = 500;

    /// <summary>Ops one document accepts in a burst above <see cref="OpsPerSecond"/>.</summary>
    public int OpsBurst { get; set; } = 1000;

    /// <summary>The most ops a catch-up (join with rev, or a host filling a gap) returns at once; older clients get the full text.</summary>
    public int MaxCatchUpOps { get; set; } = 10_000;

    /// <summary>
    /// The most wire bytes (UTF-8 JSON, upper bound) the ops of one catch-up may take; beyond, a join gets the full
    /// text instead and a host filling a gap gets fewer ops per call. Keep it well below the front end's
    /// <c>MaxMessageBytes</c> so a <c>joined</c> with ops fits one frame.
    /// </summary>
    public long MaxCatchUpBytes { get; set; } = 256 * 1024;

    /// <summary>A front-end host's subscription is dropped when not renewed within this time.</summary>
    public TimeSpan SubscriptionExpiry { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// A document that receives no call for this long is deactivated by Orleans' activation collector (its data stays
    /// in the store; the next call loads it again). Subscribed front ends renew every <see cref="RenewalPeriod"/>, so a
    /// document with sessions anywhere is never idle.
    /// </summary>
    public TimeSpan IdleCollectionAfter { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How often a subscribed front end renews: a third of the expiry, at most 10 s.</summary>
    public TimeSpan RenewalPeriod => TimeSpan.FromTicks(Math.Min(SubscriptionExpiry.Ticks / 3, TimeSpan.FromSeconds(10).Ticks));

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate()
    {
        if (WindowSize < 1) return $"{Section}:WindowSize must be at least 1 (was {WindowSize}).";
        if (SnapshotEvery < 1) return $"{Section}:SnapshotEvery must be at least 1 (was {SnapshotEvery}).";
        if (CheckpointBytes < 4096) return $"{Section}:CheckpointBytes must be at least 4096 (was {CheckpointBytes}).";
        if (MaxDocumentLength < 1) return $"{Section}:MaxDocumentLength must be at least 1 (was {MaxDocumentLength}).";
        if (OpsPerSecond <= 0) return $"{Section}:OpsPerSecond must be positive (was {OpsPerSecond}).";
        if (OpsBurst < 1) return $"{Section}:OpsBurst must be at least 1 (was {OpsBurst}).";
        if (WindowBytes < 64 * 1024) return $"{Section}:WindowBytes must be at least 65536 (was {WindowBytes}).";
        if (MaxCatchUpBytes < 4096) return $"{Section}:MaxCatchUpBytes must be at least 4096 (was {MaxCatchUpBytes}).";
        if (MaxCatchUpOps < 1) return $"{Section}:MaxCatchUpOps must be at least 1 (was {MaxCatchUpOps}).";
        if (SubscriptionExpiry < TimeSpan.FromSeconds(5)) return $"{Section}:SubscriptionExpiry must be at least 00:00:05 (was {SubscriptionExpiry}).";
        if (IdleCollectionAfter < 2 * RenewalPeriod)
            return $"{Section}:IdleCollectionAfter must be at least twice the subscription renewal period ({2 * RenewalPeriod}), so documents with sessions are never collected (was {IdleCollectionAfter}).";
        return null;
    }
}
