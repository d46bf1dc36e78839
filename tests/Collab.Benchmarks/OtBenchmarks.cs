using BenchmarkDotNet.Attributes;
using Collab.Ot;

namespace Collab.Benchmarks;

/// <summary>
/// The OT algebra on one typing edit, on a small (1 000 code units) and a 1 MB document: what the grain does per op
/// (transform over a concurrent op, apply to its gap buffer) and what a client does (compose, apply to a string).
/// </summary>
[MemoryDiagnoser]
public class OtBenchmarks
{
    private string text = "";
    private TextOperation a = TextOperation.Identity(0);
    private TextOperation b = TextOperation.Identity(0);
    private TextOperation afterA = TextOperation.Identity(0);
    private TextBuffer buffer = new();
    private string opJson = "";

    [Params(Documents.Small, Documents.Large)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        text = Documents.Text(Length);
        a = Documents.Insert(Length, Length / 3, "abc");
        b = Documents.Delete(Length, (2 * Length) / 3, 2);
        afterA = Documents.Insert(Length + 3, (Length / 3) + 3, "d");
        buffer = new TextBuffer(text);
        opJson = a.ToJson();
    }

    /// <summary>Transform of two concurrent edits (the grain's step for every op it must rebase).</summary>
    [Benchmark]
    public (TextOperation, TextOperation) Transform() => TextOperation.Transform(a, b);

    /// <summary>Compose of two consecutive edits (a client buffering while an op is in flight).</summary>
    [Benchmark]
    public TextOperation Compose() => a.Compose(afterA);

    /// <summary>Apply to an immutable string: copies the whole document.</summary>
    [Benchmark]
    public string ApplyToString() => a.Apply(text);

    /// <summary>Apply to the grain's gap buffer and undo it (two applies, so every iteration starts from the same text).</summary>
    [Benchmark]
    public TextOperation ApplyToGapBufferAndUndo() => buffer.Apply(buffer.Apply(a));

    /// <summary>The canonical JSON of the op (what the store and the broadcast carry).</summary>
    [Benchmark]
    public string ToJson() => a.ToJson();

    /// <summary>Parsing an op's JSON.</summary>
    [Benchmark]
    public TextOperation ParseJson() => TextOperation.Parse(opJson);
}
