using Xunit;

// Each test starts a whole cluster (silos, front ends, Redis, PostgreSQL) and several measure recovery times against
// stated bounds: one cluster at a time, so they measure the cluster and not each other on a 2-core machine.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
