using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Collab.Testing;

/// <summary>What to change in infra/nginx/collab.conf for one test nginx.</summary>
/// <param name="ReadTimeout">Replaces every <c>proxy_read_timeout 3600s;</c> (an nginx time, e.g. <c>3s</c>).</param>
/// <param name="SendTimeout">Replaces every <c>proxy_send_timeout 3600s;</c>.</param>
/// <param name="StripUpgrade">Sends <c>Upgrade: ""</c> and <c>Connection: ""</c> upstream on /ws, like a proxy that does not know WebSockets.</param>
public sealed record NginxSettings(string ReadTimeout = "3600s", string SendTimeout = "3600s", bool StripUpgrade = false);

/// <summary>
/// Debian's nginx run as a child process on a free loopback port, proxying to the given front ends with the shipped
/// infra/nginx/collab.conf (its listen address, upstream servers and timeouts rewritten), all files in a temp prefix.
/// Stopped by its PID.
/// </summary>
public sealed partial class NginxServer : IDisposable
{
    public const string Binary = "/usr/sbin/nginx";

    private readonly Process process;

    private NginxServer(Process process, string prefix, int port, string config)
    {
        this.process = process;
        Prefix = prefix;
        Port = port;
        Config = config;
    }

    public int Port { get; }

    /// <summary>The temp folder holding the generated nginx.conf, logs, pid file and temp paths.</summary>
    public string Prefix { get; }

    /// <summary>The generated nginx.conf.</summary>
    public string Config { get; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}");

    public Uri WebSocketUri => new($"ws://127.0.0.1:{Port}/ws");

    public string ErrorLog => ReadLog("error.log");

    public string AccessLog => ReadLog("access.log");

    public HttpClient Http() => new() { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>Starts nginx in front of <paramref name="upstreams"/> (host:port each) and waits until it accepts connections.</summary>
    public static async Task<NginxServer> StartAsync(IReadOnlyList<string> upstreams, NginxSettings? settings = null)
    {
        if (!File.Exists(Binary))
            throw new InvalidOperationException($"nginx is not installed ({Binary} is missing): run .ci/install.sh (it installs Debian's nginx package).");
        settings ??= new NginxSettings();
        var port = RepoPaths.FreePort();
        var prefix = Path.Combine(Path.GetTempPath(), "collab-nginx", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(prefix);
        var shipped = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "infra", "nginx", "collab.conf"));
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, Wrap(prefix, Rewrite(shipped, port, upstreams, settings)));

        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "-p", prefix + "/", "-e", Path.Combine(prefix, "error.log"), "-c", config, "-g", $"daemon off; pid {Path.Combine(prefix, "nginx.pid")};" })
            info.ArgumentList.Add(a);
        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start nginx");
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new NginxServer(process, prefix, port, config);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await RepoPaths.AcceptsConnectionsAsync(server.Port))
        {
            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                var exited = process.HasExited ? $"exited with code {process.ExitCode}" : "did not listen within 10 s";
                server.Dispose();
                string said;
                lock (output) said = output.ToString();
                throw new InvalidOperationException($"nginx {exited} on 127.0.0.1:{port}.\n--- output ---\n{said}\n--- error.log ---\n{server.ErrorLog}\n--- {config} ---\n{File.ReadAllText(config)}");
            }
            await Task.Delay(50);
        }
        return server;
    }

    /// <summary>
    /// Rewrites the shipped config for a test: listen address, upstream servers, timeouts, and optionally the Upgrade
    /// headers. Each directive it expects must be there, so a reshaped collab.conf fails here rather than going untested.
    /// </summary>
    public static string Rewrite(string shipped, int port, IReadOnlyList<string> upstreams, NginxSettings settings)
    {
        var text = Replace(shipped, "listen 80;", $"listen 127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)};");
        text = Replace(text, "proxy_read_timeout 3600s;", $"proxy_read_timeout {settings.ReadTimeout};");
        text = Replace(text, "proxy_send_timeout 3600s;", $"proxy_send_timeout {settings.SendTimeout};");
        if (settings.StripUpgrade)
        {
            text = Replace(text, "proxy_set_header Upgrade $http_upgrade;", "proxy_set_header Upgrade \"\";");
            text = Replace(text, "proxy_set_header Connection $connection_upgrade;", "proxy_set_header Connection \"\";");
        }

        // Each upstream block's run of `server host:port;` lines becomes the test's front ends.
        var lines = new List<string>();
        var blocks = 0;
        var previousWasServer = false;
        foreach (var line in text.Split('\n'))
        {
            var isServer = UpstreamServer().IsMatch(line);
            if (isServer && !previousWasServer)
            {
                blocks++;
                lines.AddRange(upstreams.Select(u => $"    server {u};"));
            }
            else if (!isServer)
            {
                lines.Add(line);
            }
            previousWasServer = isServer;
        }
        if (blocks == 0) throw new InvalidOperationException("infra/nginx/collab.conf has no upstream `server host:port;` lines to replace");
        return string.Join('\n', lines);
    }

    /// <summary>The main and http contexts around collab.conf (which is an http-context file), every path inside the prefix.</summary>
    private static string Wrap(string prefix, string collabConf) => $$"""
        worker_processes 1;
        error_log {{prefix}}/error.log info;
        events {
            worker_connections 1024;
        }
        http {
            access_log {{prefix}}/access.log;
            client_body_temp_path {{prefix}}/client_body_temp;
            proxy_temp_path {{prefix}}/proxy_temp;
            fastcgi_temp_path {{prefix}}/fastcgi_temp;
            uwsgi_temp_path {{prefix}}/uwsgi_temp;
            scgi_temp_path {{prefix}}/scgi_temp;

        # ---- infra/nginx/collab.conf, rewritten for this test ----
        {{collabConf}}
        }
        """;

    private static string Replace(string text, string directive, string replacement)
    {
        if (!text.Contains(directive, StringComparison.Ordinal))
            throw new InvalidOperationException($"infra/nginx/collab.conf no longer contains `{directive}`, which the nginx tests rewrite; update NginxServer.Rewrite with it");
        return text.Replace(directive, replacement, StringComparison.Ordinal);
    }

    private string ReadLog(string name)
    {
        var path = Path.Combine(Prefix, name);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            return reader.ReadToEnd();
        }
        catch (IOException)
        {
            return "";
        }
    }

    [GeneratedRegex(@"^\s*server\s+[^\s;{]+\s*;\s*$")]
    private static partial Regex UpstreamServer();

    /// <summary>SIGTERM to the master's PID (a fast shutdown that takes its worker along), SIGKILL to the tree if it lingers.</summary>
    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
                    kill?.WaitForExit(5000);
                if (!process.WaitForExit(5000)) process.Kill(entireProcessTree: true);
            }
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
        try
        {
            Directory.Delete(Prefix, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
