namespace Collab.Ot;

/// <summary>JSON that is not a well-formed text operation (wrong shape, 0, empty insert, fraction, lone surrogate, overflow).</summary>
public sealed class OtFormatException : OtException
{
    public OtFormatException()
    {
    }

    public OtFormatException(string message)
        : base(message)
    {
    }

    public OtFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
