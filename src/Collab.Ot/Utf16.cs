namespace Collab.Ot;

/// <summary>Surrogate-pair helpers: every length here is in UTF-16 code units, so edits must not cut a pair in half.</summary>
internal static class Utf16
{
    /// <summary>Index of the first surrogate in <paramref name="text"/> that is not half of a well-formed pair, or -1.</summary>
    public static int IndexOfLoneSurrogate(ReadOnlySpan<char> text)
    {
        int i = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return -1;
        }

        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c))
            {
                if (i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
                {
                    return i;
                }

                i++;
            }
            else if (char.IsLowSurrogate(c))
            {
                return i;
            }
        }

        return -1;
    }
}
