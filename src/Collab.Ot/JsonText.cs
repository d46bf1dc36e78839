using System.Globalization;
using System.Text;

namespace Collab.Ot;

/// <summary>Writes a JSON string literal the way ECMAScript's <c>JSON.stringify</c> does, so both sides spell ops alike.</summary>
internal static class JsonText
{
    public static void AppendString(StringBuilder json, string text)
    {
        json.Append('"');
        int start = 0; // start of the run of characters that need no escaping
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? escape = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\b' => "\\b",
                '\f' => "\\f",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ => null,
            };

            bool lone = char.IsSurrogate(c) && !IsPairedAt(text, i);
            if (escape is null && c >= ' ' && !lone)
            {
                if (char.IsHighSurrogate(c))
                {
                    i++; // the pair's low half needs no check of its own
                }

                continue;
            }

            json.Append(text, start, i - start);
            if (escape is not null)
            {
                json.Append(escape);
            }
            else
            {
                // Control characters and (in ops built in code, never parsed ones) lone surrogates.
                json.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }

            start = i + 1;
        }

        json.Append(text, start, text.Length - start).Append('"');
    }

    private static bool IsPairedAt(string text, int i) =>
        char.IsHighSurrogate(text[i])
            ? i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])
            : i > 0 && char.IsHighSurrogate(text[i - 1]);
}
