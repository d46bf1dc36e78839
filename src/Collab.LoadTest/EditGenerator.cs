using Collab.Ot;

namespace Collab.LoadTest;

/// <summary>How a client edits: typing at random places, or appending fixed-size chunks (building a large document).</summary>
internal enum EditShape
{
    Typing,
    Append,
}

/// <summary>
/// Makes the next edit for a text of a given length. Typing inserts 1–3 letters at a uniformly random position and
/// deletes one character 10% of the time; above <see cref="SoftMaxLength"/> it deletes half the time, so a long run
/// keeps a page-sized document instead of growing without bound. Append adds <c>chunk</c> letters at the end.
/// </summary>
internal sealed class EditGenerator(int seed, EditShape shape = EditShape.Typing, int chunk = 1)
{
    public const int SoftMaxLength = 4000;

    private const string Letters = "abcdefghijklmnopqrstuvwxyz     ";

    private readonly Random random = new(seed);

    public TextOperation Next(int length)
    {
        if (shape == EditShape.Append) return new TextOperationBuilder().Retain(length).Insert(Word(chunk)).Build();
        var deleteChance = length > SoftMaxLength ? 0.5 : 0.1;
        if (length > 0 && random.NextDouble() < deleteChance)
        {
            var at = random.Next(length);
            return new TextOperationBuilder().Retain(at).Delete(1).Retain(length - at - 1).Build();
        }
        var position = random.Next(length + 1);
        return new TextOperationBuilder().Retain(position).Insert(Word(1 + random.Next(3))).Retain(length - position).Build();
    }

    private string Word(int n) => string.Create(n, random, static (span, r) =>
    {
        for (var i = 0; i < span.Length; i++) span[i] = Letters[r.Next(Letters.Length)];
    });
}
