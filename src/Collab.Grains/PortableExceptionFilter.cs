using System.Reflection;
using Collab.Contracts;
using Microsoft.Extensions.Logging;
using Orleans.Serialization.Invocation;

namespace Collab.Grains;

/// <summary>
/// Keeps every failure of a grain call decodable by its caller. An exception (or an inner exception of it) whose type
/// lives outside the assemblies every caller has — a store driver's <c>NpgsqlException</c> or <c>SqliteException</c>,
/// Orleans' <c>RedisClusteringException</c> under the management grain — has no codec on a client-mode front end,
/// which would get <c>CodecNotFoundException</c> instead of an answer it can act on. Such an exception is logged here,
/// with its detail, and the caller gets <see cref="DocumentUnavailableException"/>: retryable, and without the
/// driver's message (which may name hosts or users).
/// </summary>
public sealed partial class PortableExceptionFilter(ILogger<PortableExceptionFilter> logger) : IIncomingGrainCallFilter
{
    // What a client-mode front end references: the runtime library, Orleans' client and serializer, Collab's contracts.
    private static readonly HashSet<string> Portable = new(StringComparer.Ordinal)
    {
        typeof(object).Assembly.GetName().Name!,
        typeof(DocumentUnavailableException).Assembly.GetName().Name!,
        "Orleans.Core", "Orleans.Core.Abstractions", "Orleans.Serialization", "Orleans.Serialization.Abstractions",
    };

    public async Task Invoke(IIncomingGrainCallContext context)
    {
        try
        {
            await context.Invoke();
        }
        catch (Exception e) when (!IsPortable(e))
        {
            LogMapped(logger, context.InterfaceName, context.MethodName, e);
            throw Unavailable(context.InterfaceName, context.MethodName);
        }
        // A failed grain method usually comes back as the call's response rather than thrown through the filter.
        if (context.Response?.Exception is { } failed && !IsPortable(failed))
        {
            LogMapped(logger, context.InterfaceName, context.MethodName, failed);
            context.Response = Response.FromException(Unavailable(context.InterfaceName, context.MethodName));
        }
    }

    /// <summary>Whether <paramref name="error"/> and everything it wraps can be decoded by any caller.</summary>
    public static bool IsPortable(Exception error) => error switch
    {
        AggregateException aggregate => IsPortableType(aggregate.GetType()) && aggregate.InnerExceptions.All(IsPortable),
        _ => IsPortableType(error.GetType()) && (error.InnerException is null || IsPortable(error.InnerException)),
    };

    /// <summary>The answer a caller gets instead of an exception it could not decode.</summary>
    public static DocumentUnavailableException Unavailable(string interfaceName, string methodName) =>
        new($"{ShortName(interfaceName)}.{methodName} could not be served right now (a store or the membership table did not answer); retry shortly.");

    private static bool IsPortableType(Type type) => Portable.Contains(type.Assembly.GetName().Name ?? "");

    private static string ShortName(string interfaceName) => interfaceName[(interfaceName.LastIndexOf('.') + 1)..];

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Interface}.{Method} failed with an exception its caller could not decode; answered DocumentUnavailableException")]
    private static partial void LogMapped(ILogger logger, string @interface, string method, Exception error);
}
