using System.Text.RegularExpressions;
using Collab.Ot;

namespace Collab.Testing;

/// <summary>
/// Edits made of unique tokens (<c>[name-seq]</c>) inserted at token boundaries, so a text can be audited afterwards:
/// every acknowledged token exactly once, nothing torn.
/// </summary>
public static partial class Tokens
{
    [GeneratedRegex(@"\[([A-Za-z0-9]+)-(\d+)\]", RegexOptions.CultureInvariant)]
    private static partial Regex Token();

    /// <summary>Inserts <c>[name-seq]</c> at a random token boundary each time the previous op is acked, until stopped or disconnected.</summary>
    public static async Task InsertUntilStoppedAsync(OtClientModel model, string name, Random random, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await model.WaitUntilAsync(m => m.State.Synchronized, TimeSpan.FromSeconds(60), "ack", stop);
                if (stop.IsCancellationRequested) return;
                if (model.Connection.IsClosed)
                {
                    await Task.Delay(20, stop);
                    continue;
                }
                await model.EditAsync(text =>
                {
                    var boundaries = new List<int> { 0 };
                    for (var p = text.IndexOf(']', StringComparison.Ordinal); p >= 0; p = text.IndexOf(']', p + 1)) boundaries.Add(p + 1);
                    var at = boundaries[random.Next(boundaries.Count)];
                    return new TextOperationBuilder().Retain(at).Insert($"[{name}-{model.NextSeq}]").Retain(text.Length - at).Build();
                });
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>How many times each token occurs.</summary>
    public static Dictionary<string, int> Count(string text)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Token().Matches(text)) counts[m.Value] = counts.GetValueOrDefault(m.Value) + 1;
        return counts;
    }

    /// <summary>What is left of the text once every whole token is removed (empty when nothing is torn).</summary>
    public static string Residue(string text) => Token().Replace(text, "");

    /// <summary>Problems with <paramref name="text"/> given the tokens acknowledged: torn text, duplicates, losses.</summary>
    public static List<string> Audit(string text, IEnumerable<string> acknowledged)
    {
        var problems = new List<string>();
        var residue = Residue(text);
        if (residue.Length > 0) problems.Add($"text holds something other than whole tokens: {residue[..Math.Min(200, residue.Length)]}");
        var counts = Count(text);
        problems.AddRange(counts.Where(c => c.Value > 1).Select(c => $"{c.Key} applied {c.Value} times"));
        problems.AddRange(acknowledged.Where(t => !counts.ContainsKey(t)).Select(t => $"{t} was acknowledged but is lost"));
        return problems;
    }
}
