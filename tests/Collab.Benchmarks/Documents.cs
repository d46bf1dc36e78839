using System.Text;
using Collab.Ot;

namespace Collab.Benchmarks;

/// <summary>Document sizes the benchmarks run on, and edits made the way a typist makes them (seeded, so every run is the same).</summary>
public static class Documents
{
    public const int Small = 1_000;
    public const int Large = 1_048_576;

    public static string Text(int length)
    {
        var random = new Random(length);
        var text = new StringBuilder(length);
        while (text.Length < length) text.Append((char)('a' + random.Next(26)));
        return text.ToString();
    }

    /// <summary>Inserts <paramref name="insert"/> at <paramref name="at"/> of a text of <paramref name="length"/>.</summary>
    public static TextOperation Insert(int length, int at, string insert) =>
        new TextOperationBuilder().Retain(at).Insert(insert).Retain(length - at).Build();

    /// <summary>Deletes <paramref name="count"/> code units at <paramref name="at"/>.</summary>
    public static TextOperation Delete(int length, int at, int count) =>
        new TextOperationBuilder().Retain(at).Delete(count).Retain(length - at - count).Build();
}
