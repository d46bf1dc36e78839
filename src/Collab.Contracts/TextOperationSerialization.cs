using Collab.Ot;
using Orleans.Serialization.Cloning;

namespace Collab.Contracts;

/// <summary>
/// Wire form of a <see cref="TextOperation"/> between silos and clients: component lengths (0 marks an insert) and the
/// inserted strings in order. Keeps the OT library free of Orleans.
/// </summary>
[GenerateSerializer, Alias("collab.TextOperation")]
public struct TextOperationSurrogate
{
    [Id(0)] public int[] Lengths;
    [Id(1)] public string[] Inserts;
}

/// <summary>Converts <see cref="TextOperation"/> to and from its surrogate.</summary>
[RegisterConverter]
public sealed class TextOperationSurrogateConverter : IConverter<TextOperation, TextOperationSurrogate>
{
    public TextOperation ConvertFromSurrogate(in TextOperationSurrogate surrogate)
    {
        var builder = new TextOperationBuilder();
        var inserts = 0;
        foreach (var length in surrogate.Lengths)
        {
            if (length > 0) builder.Retain(length);
            else if (length < 0) builder.Delete(-length);
            else builder.Insert(surrogate.Inserts[inserts++]);
        }
        return builder.Build();
    }

    public TextOperationSurrogate ConvertToSurrogate(in TextOperation value)
    {
        var components = value.Components;
        var lengths = new int[components.Length];
        var insertCount = 0;
        foreach (var c in components) if (c.IsInsert) insertCount++;
        var inserts = new string[insertCount];
        insertCount = 0;
        for (var i = 0; i < components.Length; i++)
        {
            var c = components[i];
            if (c.IsInsert) inserts[insertCount++] = c.Text!;
            else lengths[i] = c.Length;
        }
        return new TextOperationSurrogate { Lengths = lengths, Inserts = inserts };
    }
}

/// <summary>Text operations are immutable: in-process calls pass the same instance instead of a copy.</summary>
[RegisterCopier]
public sealed class TextOperationCopier : IDeepCopier<TextOperation>
{
    public TextOperation? DeepCopy(TextOperation? input, CopyContext context) => input;
}
