using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Collab.Hosting;

/// <summary>Binds an options class from its section and validates it at start, failing with a message that names the key.</summary>
public static class ValidatedOptions
{
    public static OptionsBuilder<T> Add<T>(IServiceCollection services, string section, Func<T, string?> validate) where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new Described<T>(validate));
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    /// <summary>Reads and validates options now, for settings needed while the host is being built.</summary>
    /// <param name="postConfigure">Defaults that depend on the host (or its environment), applied before validation.</param>
    public static T Read<T>(IConfiguration configuration, string section, Func<T, string?> validate, Action<T>? postConfigure = null)
        where T : class, new()
    {
        T options;
        try
        {
            options = configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The binder's message names the key and the value it could not convert (an unknown enum name, say).
            throw new OptionsValidationException(section, typeof(T), [e.Message]);
        }

        postConfigure?.Invoke(options);
        if (validate(options) is { } error) throw new OptionsValidationException(section, typeof(T), [error]);
        return options;
    }

    private sealed class Described<T>(Func<T, string?> validate) : IValidateOptions<T> where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options) =>
            validate(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}
