using System.Text;
using BenchmarkDotNet.Attributes;
using Collab.Contracts;
using Collab.Ot;
using Collab.Web.Protocol;

namespace Collab.Benchmarks;

/// <summary>The front end's frame parsing (<c>FrameReader</c>, per received frame) and serialisation (<c>Frames</c>, per sent frame).</summary>
[MemoryDiagnoser]
public class FrameBenchmarks
{
    private readonly byte[] opFrame = Encoding.UTF8.GetBytes("""{"type":"op","doc":"notes","rev":1234,"seq":57,"op":[812,"abc",188]}""");
    private readonly byte[] joinFrame = Encoding.UTF8.GetBytes("""{"type":"join","doc":"notes"}""");
    private readonly byte[] presenceFrame = Encoding.UTF8.GetBytes("""{"type":"presence","doc":"notes","rev":1234,"anchor":815,"head":815}""");
    private readonly CommittedOp committed = new(1235, "tab-7f3a", 57, TextOperation.Parse("""[812,"abc",188]"""));
    private readonly CommittedOp committedLarge = new(1235, "tab-7f3a", 57, TextOperation.Parse("""[349525,"abc",699051]"""));

    [Benchmark]
    public bool ParseOp() => FrameReader.TryRead(opFrame, new ClientFrame()) is null;

    [Benchmark]
    public bool ParseJoin() => FrameReader.TryRead(joinFrame, new ClientFrame()) is null;

    [Benchmark]
    public bool ParsePresence() => FrameReader.TryRead(presenceFrame, new ClientFrame()) is null;

    /// <summary>The broadcast <c>op</c> frame (built once per host per op).</summary>
    [Benchmark]
    public byte[] WriteOp() => Frames.Op("notes", committed, "mGq3xT0b9dYkU2pWf7Lr1A");

    [Benchmark]
    public byte[] WriteOpOnLargeDocument() => Frames.Op("notes", committedLarge, "mGq3xT0b9dYkU2pWf7Lr1A");

    /// <summary>The <c>ack</c> frame (one per op, to its sender).</summary>
    [Benchmark]
    public byte[] WriteAck() => Frames.Ack("notes", 57, 1235);
}
