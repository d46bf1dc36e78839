namespace Collab.Storage;

/// <summary>One committed operation as the log keeps it: its revision, who sent it, and the op in canonical JSON.</summary>
public sealed record StoredOp(long Rev, string ClientId, long Seq, string Op);
