using System.Globalization;
using System.Net;
using System.Text;

namespace Collab.LoadTest;

/// <summary>
/// The soak's samples as a self-contained SVG: the server's RSS (MiB, left axis) and open file descriptors (right axis)
/// over time, the hostile load's window shaded. Written by hand: no plotting package.
/// </summary>
internal static class SoakPlot
{
    private const int Width = 960, Height = 440, Left = 70, Right = 70, Top = 50, Bottom = 50;

    public static string Svg(SoakResult soak, string title)
    {
        var samples = soak.Samples;
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" viewBox="0 0 {Width} {Height}" font-family="sans-serif" font-size="12">""").Append('\n');
        svg.Append("""<rect width="100%" height="100%" fill="white"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="22" text-anchor="middle" font-size="15">{WebUtility.HtmlEncode(title)}</text>""").Append('\n');
        if (samples.Count < 2)
        {
            svg.Append("""<text x="50%" y="50%" text-anchor="middle">fewer than two samples</text></svg>""").Append('\n');
            return svg.ToString();
        }
        var tMax = Math.Max(1, samples[^1].T);
        var rssMax = Nice(samples.Max(s => s.RssKb) / 1024.0);
        var fdMax = Nice(samples.Max(s => s.Fds));
        double X(double t) => Left + (t / tMax * (Width - Left - Right));
        double Y(double v, double max) => Height - Bottom - (v / max * (Height - Top - Bottom));
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

        // The hostile load's window, then the grid and axes.
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{F(X(soak.LoadFrom))}" y="{Top}" width="{F(X(soak.LoadTo) - X(soak.LoadFrom))}" height="{Height - Top - Bottom}" fill="#fbe9e7"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(X(soak.LoadFrom) + 4)}" y="{Top + 14}" fill="#bf360c">hostile load</text>""").Append('\n');
        for (var i = 0; i <= 5; i++)
        {
            var y = Y(i / 5.0, 1);
            svg.Append(CultureInfo.InvariantCulture, $"""<line x1="{Left}" x2="{Width - Right}" y1="{F(y)}" y2="{F(y)}" stroke="#e0e0e0"/>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left - 6}" y="{F(y + 4)}" text-anchor="end" fill="#1565c0">{F(rssMax * i / 5)}</text>""").Append('\n');
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width - Right + 6}" y="{F(y + 4)}" fill="#2e7d32">{F(fdMax * i / 5)}</text>""").Append('\n');
        }
        var step = Nice(tMax / 10);
        for (var t = 0.0; t <= tMax + 1e-9; t += step)
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{F(X(t))}" y="{Height - Bottom + 18}" text-anchor="middle">{F(t)}</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<rect x="{Left}" y="{Top}" width="{Width - Left - Right}" height="{Height - Top - Bottom}" fill="none" stroke="#616161"/>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width / 2}" y="{Height - 12}" text-anchor="middle">seconds</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="18" y="{Height / 2}" text-anchor="middle" fill="#1565c0" transform="rotate(-90 18 {Height / 2})">RSS (MiB)</text>""").Append('\n');
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Width - 18}" y="{Height / 2}" text-anchor="middle" fill="#2e7d32" transform="rotate(90 {Width - 18} {Height / 2})">open file descriptors</text>""").Append('\n');

        Polyline(svg, samples.Select(s => (X(s.T), Y(s.RssKb / 1024.0, rssMax))), "#1565c0");
        Polyline(svg, samples.Select(s => (X(s.T), Y(s.Fds, fdMax))), "#2e7d32");

        var legend = $"RSS start {soak.Start?.RssKb / 1024 ?? 0} MiB, peak {soak.PeakRssKb / 1024} MiB, end {soak.End?.RssKb / 1024 ?? 0} MiB; fds start {soak.Start?.Fds ?? 0}, peak {soak.PeakFds}, end {soak.End?.Fds ?? 0}";
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Left}" y="{Top - 10}">{WebUtility.HtmlEncode(legend)}</text>""").Append('\n');
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static void Polyline(StringBuilder svg, IEnumerable<(double X, double Y)> points, string colour)
    {
        svg.Append("<polyline fill=\"none\" stroke=\"").Append(colour).Append("\" stroke-width=\"1.5\" points=\"");
        foreach (var (x, y) in points) svg.Append(CultureInfo.InvariantCulture, $"{x:0.#},{y:0.#} ");
        svg.Append("\"/>\n");
    }

    /// <summary>The smallest of 1, 2, 2.5 or 5 × 10ⁿ at or above <paramref name="v"/>: a round axis maximum or step.</summary>
    private static double Nice(double v)
    {
        if (v <= 0) return 1;
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(v)));
        foreach (var m in new[] { 1, 2, 2.5, 5, 10 })
            if (m * magnitude >= v) return m * magnitude;
        return 10 * magnitude;
    }
}
