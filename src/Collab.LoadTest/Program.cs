using Collab.LoadTest;

LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(LoadOptions.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};

var result = await Runner.RunAsync(options, Console.Out, cancel.Token);
Console.WriteLine();
Console.Write(result.ToTable());
if (options.JsonPath is not null)
{
    await File.WriteAllTextAsync(options.JsonPath, result.ToJson());
    Console.WriteLine($"written to {options.JsonPath}");
}
if (options.PlotPath is not null && result.Soak is { } soak)
{
    await File.WriteAllTextAsync(options.PlotPath, SoakPlot.Svg(soak, $"soak against {options.Url} (pid {options.ServerPid}), {result.StartedAt:yyyy-MM-dd HH:mm} UTC"));
    Console.WriteLine($"plot written to {options.PlotPath}");
}
return result.Converged ? 0 : 1;
