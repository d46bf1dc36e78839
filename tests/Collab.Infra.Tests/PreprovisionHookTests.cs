using System.Diagnostics;

namespace Collab.Infra.Tests;

/// <summary>
/// infra/hooks/preprovision.sh, run by /bin/sh in a temporary folder with a fake <c>azd</c> first on PATH: it
/// generates the signing and operator keys when the azd environment lacks them, keeps them when it has them, and never
/// replaces a key it could not read or does not like.
/// </summary>
public sealed class PreprovisionHookTests : IDisposable
{
    private static readonly string Script = Path.Combine(RepoPaths.Infra, "hooks", "preprovision.sh");

    /// <summary>
    /// A stand-in for azd's environment commands, backed by a dotenv file as azd keeps .azure/&lt;env&gt;/.env: get-values
    /// prints it, get-value answers one name (error and exit 1 when absent, as azd does), set records the call and
    /// stores the value. FAKE_AZD_FAIL_READS makes get-values and get-value fail while set still works.
    /// </summary>
    private const string FakeAzd = """
        #!/bin/sh
        store="$FAKE_AZD_HOME/env"
        [ -n "${FAKE_AZD_FAIL_READS:-}" ] && [ "$2" != "set" ] && { echo "ERROR: fake failure" >&2; exit 1; }
        touch "$store"
        case "$1 $2" in
        "env get-values") cat "$store" ;;
        "env get-value")
            line=$(grep "^$3=" "$store" | tail -n 1) || { echo "ERROR: key '$3' not found in the environment values" >&2; exit 1; }
            value=${line#*=}; value=${value#\"}; value=${value%\"}
            printf '%s\n' "$value" ;;
        "env set")
            echo "$3" >> "$FAKE_AZD_HOME/set-calls"
            grep -v "^$3=" "$store" > "$store.new" || true
            printf '%s="%s"\n' "$3" "$4" >> "$store.new"
            mv "$store.new" "$store" ;;
        *) echo "fake azd: unexpected '$*'" >&2; exit 2 ;;
        esac
        """;

    private readonly string dir = Path.Combine(Path.GetTempPath(), "collab-infra-tests", Guid.NewGuid().ToString("N"));

    public PreprovisionHookTests()
    {
        Directory.CreateDirectory(Path.Combine(dir, "bin"));
        var azd = Path.Combine(dir, "bin", "azd");
        File.WriteAllText(azd, FakeAzd.ReplaceLineEndings("\n") + "\n");
        // The hook is a POSIX shell script; like the Bicep CLI from its linux-x64 package, these tests run on Linux.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(azd, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    [Fact]
    public async Task Generates_a_signing_key_of_at_least_32_bytes_and_an_operator_key_when_the_environment_has_none()
    {
        var run = await RunAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(["COLLAB_SIGNING_KEY", "COLLAB_OPERATOR_KEY"], SetCalls());
        var env = Environment();
        Assert.True(Convert.FromBase64String(env["COLLAB_SIGNING_KEY"]).Length >= 32, env["COLLAB_SIGNING_KEY"]);
        Assert.True(env["COLLAB_OPERATOR_KEY"].Length >= 16);
    }

    [Fact]
    public async Task Keeps_keys_the_environment_already_has_and_sets_nothing()
    {
        var signing = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        WriteEnvironment($"AZURE_ENV_NAME=\"dev\"\nCOLLAB_SIGNING_KEY=\"{signing}\"\nCOLLAB_OPERATOR_KEY=\"operator-key-0123456789\"\n");

        var run = await RunAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Empty(SetCalls());
        Assert.Equal(signing, Environment()["COLLAB_SIGNING_KEY"]);
        Assert.Equal("operator-key-0123456789", Environment()["COLLAB_OPERATOR_KEY"]);
    }

    [Fact]
    public async Task A_second_run_keeps_what_the_first_generated()
    {
        Assert.Equal(0, (await RunAsync()).ExitCode);
        var first = Environment();

        var second = await RunAsync();

        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Equal(first, Environment());
        Assert.Equal(2, SetCalls().Count);
    }

    [Fact]
    public async Task Each_environment_gets_its_own_random_keys()
    {
        Assert.Equal(0, (await RunAsync()).ExitCode);
        var first = Environment();
        File.Delete(Path.Combine(dir, "env"));

        Assert.Equal(0, (await RunAsync()).ExitCode);

        Assert.NotEqual(first["COLLAB_SIGNING_KEY"], Environment()["COLLAB_SIGNING_KEY"]);
        Assert.NotEqual(first["COLLAB_OPERATOR_KEY"], Environment()["COLLAB_OPERATOR_KEY"]);
    }

    [Fact]
    public async Task Keys_passed_as_environment_variables_are_kept()
    {
        // A pipeline that passes the keys as secret variables: azd substitutes them into main.parameters.json itself.
        var run = await RunAsync(
            ("COLLAB_SIGNING_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="),
            ("COLLAB_OPERATOR_KEY", "operator-key-0123456789"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Empty(SetCalls());
    }

    [Fact]
    public async Task Only_the_missing_key_is_generated()
    {
        WriteEnvironment("COLLAB_OPERATOR_KEY=\"operator-key-0123456789\"\n");

        var run = await RunAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(["COLLAB_SIGNING_KEY"], SetCalls());
        Assert.Equal("operator-key-0123456789", Environment()["COLLAB_OPERATOR_KEY"]);
    }

    [Fact]
    public async Task An_empty_value_counts_as_absent()
    {
        WriteEnvironment("COLLAB_SIGNING_KEY=\"\"\nCOLLAB_OPERATOR_KEY=\"\"\n");

        var run = await RunAsync();

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.Equal(["COLLAB_SIGNING_KEY", "COLLAB_OPERATOR_KEY"], SetCalls());
        Assert.True(Convert.FromBase64String(Environment()["COLLAB_SIGNING_KEY"]).Length >= 32);
    }

    [Theory]
    [InlineData("COLLAB_SIGNING_KEY=\"c2hvcnQ=\"\nCOLLAB_OPERATOR_KEY=\"operator-key-0123456789\"\n", "COLLAB_SIGNING_KEY")]
    [InlineData("COLLAB_SIGNING_KEY=\"not base64 at all, although it is long enough to hold 32 bytes!\"\nCOLLAB_OPERATOR_KEY=\"operator-key-0123456789\"\n", "COLLAB_SIGNING_KEY")]
    [InlineData("COLLAB_SIGNING_KEY=\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\nCOLLAB_OPERATOR_KEY=\"short\"\n", "COLLAB_OPERATOR_KEY")]
    public async Task A_weak_key_stops_the_provision_and_is_not_overwritten(string environment, string named)
    {
        WriteEnvironment(environment);

        var run = await RunAsync();

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(named, run.Output, StringComparison.Ordinal);
        Assert.Empty(SetCalls());
        Assert.Equal(environment, File.ReadAllText(Path.Combine(dir, "env")));
    }

    [Fact]
    public async Task When_azd_cannot_read_the_environment_nothing_is_generated()
    {
        // The keys are there, but azd cannot say so: regenerating would revoke every link.
        const string environment = "COLLAB_SIGNING_KEY=\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\"\nCOLLAB_OPERATOR_KEY=\"operator-key-0123456789\"\n";
        WriteEnvironment(environment);

        var run = await RunAsync(("FAKE_AZD_FAIL_READS", "1"));

        Assert.NotEqual(0, run.ExitCode);
        Assert.Empty(SetCalls());
        Assert.Equal(environment, File.ReadAllText(Path.Combine(dir, "env")));
    }

    [Fact]
    public async Task An_environment_that_was_provisioned_before_gets_no_new_signing_key()
    {
        // What `azd env refresh` on a new machine leaves: the outputs of the last deployment, not the parameters.
        const string environment = "AZURE_ENV_NAME=\"dev\"\nAZURE_KEY_VAULT_NAME=\"kv-abc\"\n";
        WriteEnvironment(environment);

        var run = await RunAsync();

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("COLLAB_SIGNING_KEY", run.Output, StringComparison.Ordinal);
        Assert.Empty(SetCalls());
        Assert.Equal(environment, File.ReadAllText(Path.Combine(dir, "env")));
    }

    [Fact]
    public async Task The_keys_never_appear_in_the_hooks_output()
    {
        var run = await RunAsync();

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("COLLAB_SIGNING_KEY generated", run.Output, StringComparison.Ordinal);
        foreach (var value in Environment().Values)
        {
            Assert.DoesNotContain(value, run.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Without_openssl_the_keys_come_from_dev_urandom()
    {
        // A PATH holding only the fake azd and the tools the script falls back to, so `command -v openssl` fails.
        var tools = Path.Combine(dir, "tools");
        Directory.CreateDirectory(tools);
        foreach (var tool in new[] { "grep", "tr", "head", "base64", "od", "wc", "cat", "tail", "mv", "touch" })
        {
            var found = new[] { "/usr/bin", "/bin" }.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
            Assert.True(found is not null, $"{tool} is not in /usr/bin or /bin.");
            File.CreateSymbolicLink(Path.Combine(tools, tool), found!);
        }

        var run = await RunAsync(("PATH", $"{Path.Combine(dir, "bin")}:{tools}"));

        Assert.True(run.ExitCode == 0, run.Output);
        Assert.True(Convert.FromBase64String(Environment()["COLLAB_SIGNING_KEY"]).Length >= 32);
        Assert.Matches("^[0-9a-f]{64}$", Environment()["COLLAB_OPERATOR_KEY"]);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private sealed record Run(int ExitCode, string Output);

    private async Task<Run> RunAsync(params (string Name, string Value)[] environment)
    {
        var start = new ProcessStartInfo("/bin/sh")
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Script);
        start.Environment.Clear();
        start.Environment["PATH"] = $"{Path.Combine(dir, "bin")}:/usr/bin:/bin";
        start.Environment["FAKE_AZD_HOME"] = dir;
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cancel.Token);
        return new Run(process.ExitCode, await stdout + await stderr);
    }

    private void WriteEnvironment(string dotenv) => File.WriteAllText(Path.Combine(dir, "env"), dotenv);

    private Dictionary<string, string> Environment() =>
        File.ReadAllLines(Path.Combine(dir, "env"))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1].Trim('"'));

    private List<string> SetCalls()
    {
        var calls = Path.Combine(dir, "set-calls");
        return File.Exists(calls) ? [.. File.ReadAllLines(calls)] : [];
    }
}
