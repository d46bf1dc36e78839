using BenchmarkDotNet.Running;
using Collab.Benchmarks;

BenchmarkSwitcher.FromAssembly(typeof(OtBenchmarks).Assembly).Run(args);
