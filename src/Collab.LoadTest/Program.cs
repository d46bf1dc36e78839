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
return result.Converged ? 0 : 1;
