namespace Collab.Web.Protocol;

/// <summary>Validation of the identifiers the contract constrains.</summary>
public static class Identifiers
{
    /// <summary>
    /// A document id: 1–128 of <c>[A-Za-z0-9._-]</c>, but not <c>.</c> or <c>..</c> (path segments that URLs, proxies
    /// and file systems give a meaning of their own).
    /// </summary>
    public static bool IsValidDocumentId(ReadOnlySpan<char> id) => IsValid(id, 128, allowDot: true) && !id.SequenceEqual(".") && !id.SequenceEqual("..");

    /// <summary>A client id: 1–64 of <c>[A-Za-z0-9_-]</c>.</summary>
    public static bool IsValidClientId(ReadOnlySpan<char> id) => IsValid(id, 64, allowDot: false);

    private static bool IsValid(ReadOnlySpan<char> id, int maxLength, bool allowDot)
    {
        if (id.Length is 0 || id.Length > maxLength) return false;
        foreach (var c in id)
        {
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '-' || (allowDot && c == '.')) continue;
            return false;
        }
        return true;
    }
}
