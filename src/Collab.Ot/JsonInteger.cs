namespace Collab.Ot;

/// <summary>Reads a JSON number token as an exact <see cref="int"/>, whatever its spelling (<c>5</c>, <c>5.0</c>, <c>5e0</c>, <c>50E-1</c>).</summary>
/// <remarks>
/// Works on the digits rather than through double or decimal so that no rounding can turn
/// <c>2147483647.0000000000000000001</c> or <c>1e400</c> into an acceptable value.
/// </remarks>
internal static class JsonInteger
{
    public enum Result
    {
        Ok,
        NotInteger,
        OutOfRange,
        Malformed,
    }

    /// <param name="number">The raw token: <c>-?digits(.digits)?([eE][+-]?digits)?</c>.</param>
    public static Result TryParse(ReadOnlySpan<byte> number, out int value)
    {
        value = 0;
        int i = 0;
        bool negative = i < number.Length && number[i] == (byte)'-';
        if (negative)
        {
            i++;
        }

        // Significant digits (integer and fraction parts together), with the position of the decimal point.
        Span<byte> digits = stackalloc byte[16];
        int digitCount = 0;      // significant digits kept, leading zeros skipped
        long pointShift = 0;     // value = digits * 10^(pointShift + exponent)
        bool nonZeroDropped = false;
        bool seenDigit = false;
        bool inFraction = false;
        for (; i < number.Length; i++)
        {
            byte b = number[i];
            if (b == (byte)'.' && !inFraction)
            {
                inFraction = true;
                continue;
            }

            if (b is < (byte)'0' or > (byte)'9')
            {
                break;
            }

            seenDigit = true;
            if (inFraction)
            {
                pointShift--;
            }

            if (digitCount == 0 && b == (byte)'0')
            {
                continue;
            }

            if (digitCount < digits.Length)
            {
                digits[digitCount++] = (byte)(b - '0');
            }
            else
            {
                // More than 16 significant digits: either trailing zeros (shift) or the value is too precise/large.
                pointShift++;
                nonZeroDropped |= b != (byte)'0';
            }
        }

        if (!seenDigit)
        {
            return Result.Malformed;
        }

        long exponent = 0;
        if (i < number.Length && (number[i] == (byte)'e' || number[i] == (byte)'E'))
        {
            i++;
            bool negativeExponent = false;
            if (i < number.Length && (number[i] == (byte)'+' || number[i] == (byte)'-'))
            {
                negativeExponent = number[i] == (byte)'-';
                i++;
            }

            bool seenExponentDigit = false;
            for (; i < number.Length && number[i] is >= (byte)'0' and <= (byte)'9'; i++)
            {
                seenExponentDigit = true;
                exponent = Math.Min(exponent * 10 + (number[i] - '0'), 1_000_000_000); // saturate; far beyond any int
            }

            if (!seenExponentDigit)
            {
                return Result.Malformed;
            }

            if (negativeExponent)
            {
                exponent = -exponent;
            }
        }

        if (i != number.Length)
        {
            return Result.Malformed;
        }

        if (digitCount == 0)
        {
            return Result.Ok; // zero in any spelling
        }

        // Trailing zeros of the kept digits move into the exponent.
        while (digitCount > 0 && digits[digitCount - 1] == 0)
        {
            digitCount--;
            pointShift++;
        }

        long scale = pointShift + exponent;
        if (scale < 0 || nonZeroDropped)
        {
            // Digits remain after the decimal point. (A dropped non-zero digit past the 16th means the value
            // has 17+ significant digits: either a fraction or far beyond int range; call it by its scale.)
            return scale < 0 || digitCount + scale <= 10 ? Result.NotInteger : Result.OutOfRange;
        }

        if (digitCount + scale > 10)
        {
            return Result.OutOfRange;
        }

        long magnitude = 0;
        for (int d = 0; d < digitCount; d++)
        {
            magnitude = magnitude * 10 + digits[d];
        }

        for (long s = 0; s < scale; s++)
        {
            magnitude *= 10;
        }

        long signed = negative ? -magnitude : magnitude;
        if (signed is < int.MinValue or > int.MaxValue)
        {
            return Result.OutOfRange;
        }

        value = (int)signed;
        return Result.Ok;
    }
}
