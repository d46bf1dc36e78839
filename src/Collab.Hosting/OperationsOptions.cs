namespace Collab.Hosting;

/// <summary>Who may see operators' detail (store errors, exception text), bound from <c>Collab:Operations</c>.</summary>
public sealed class OperationsOptions
{
    public const string Section = "Collab:Operations";

    /// <summary>
    /// A secret that, sent as <c>Authorization: Bearer &lt;key&gt;</c>, makes <c>/readyz</c> report the store's state and the
    /// errors behind it. Unset: nobody gets that detail over HTTP (it is still logged).
    /// </summary>
    public string? OperatorKey { get; set; }

    /// <summary>Returns the first invalid setting as a message naming its configuration key, or null.</summary>
    public string? Validate() =>
        OperatorKey is { Length: > 0 and < 16 } ? $"{Section}:OperatorKey must be at least 16 characters (or unset)." : null;
}
