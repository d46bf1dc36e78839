namespace Collab.Ot;

/// <summary>An operation does not fit what it is applied to, composed with or transformed against (usually a length mismatch).</summary>
public class OtException : Exception
{
    public OtException()
    {
    }

    public OtException(string message)
        : base(message)
    {
    }

    public OtException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
