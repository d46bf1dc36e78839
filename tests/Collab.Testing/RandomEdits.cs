using Collab.Ot;

namespace Collab.Testing;

/// <summary>Random edits valid for a given text: inserts (with emoji / surrogate pairs), deletes and replaces, never splitting a pair.</summary>
public static class RandomEdits
{
    private static readonly string[] Pieces = ["a", "b", "xyz", " ", "\n", "é", "ß", "😀", "👍🏽", "𝄞", "漢字", "—", "\"q\"", "\\"];

    /// <summary>The seed for a randomized test: COLLAB_SEED when set (to replay a failure), else a fresh one.</summary>
    public static int Seed() => Seeds.Replay ?? Random.Shared.Next(1, 1_000_000);

    /// <summary>Makes <paramref name="edits"/> random edits on <paramref name="model"/>, with short random pauses like a typist.</summary>
    public static async Task TypeAsync(OtClientModel model, Random random, int edits)
    {
        await Task.Yield();
        for (var i = 0; i < edits; i++)
        {
            await model.EditAsync(text => Next(random, text));
            await Task.Delay(random.Next(0, 15));
        }
    }

    public static TextOperation Next(Random random, string text)
    {
        var kind = text.Length == 0 ? 0 : random.Next(3);
        var at = Boundary(random, text, 0, text.Length);
        var builder = new TextOperationBuilder().Retain(at);
        if (kind == 0)
            return builder.Insert(RandomInsert(random)).Retain(text.Length - at).Build();

        var end = Boundary(random, text, at, Math.Min(text.Length, at + 1 + random.Next(8)));
        if (end == at) end = NextBoundary(text, at);
        if (end == at) return builder.Insert(RandomInsert(random)).Retain(text.Length - at).Build();
        builder.Delete(end - at);
        if (kind == 2) builder.Insert(RandomInsert(random));
        return builder.Retain(text.Length - end).Build();
    }

    private static string RandomInsert(Random random)
    {
        var count = 1 + random.Next(3);
        var parts = new string[count];
        for (var i = 0; i < count; i++) parts[i] = Pieces[random.Next(Pieces.Length)];
        return string.Concat(parts);
    }

    /// <summary>A random position in [from, to] that is not inside a surrogate pair.</summary>
    private static int Boundary(Random random, string text, int from, int to)
    {
        var p = random.Next(from, to + 1);
        return IsBoundary(text, p) ? p : p - 1 >= from ? p - 1 : p + 1;
    }

    private static int NextBoundary(string text, int p)
    {
        if (p >= text.Length) return p;
        return IsBoundary(text, p + 1) ? p + 1 : p + 2;
    }

    private static bool IsBoundary(string text, int p) =>
        p <= 0 || p >= text.Length || !(char.IsHighSurrogate(text[p - 1]) && char.IsLowSurrogate(text[p]));
}
