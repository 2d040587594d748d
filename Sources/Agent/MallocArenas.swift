import CLinuxSupport

/// glibc's malloc gives a thread that finds the heap locked an arena of its
/// own (up to 8 per core). In a long-running service whose threads free
/// each other's allocations (Swift's cooperative pool, Dispatch queues, the
/// MQTT network thread), memory then spreads over several arenas that
/// fragment independently: the aggregator's resident memory kept creeping
/// up (about 1 KiB per 1,000 messages) with the default and stayed flat
/// with one arena, at the same throughput within noise on 2 cores
/// (`fieldproof-bench aggregator-memory`). Call it first thing in a
/// long-running command, before threads start.
public enum MallocArenas {
    public static func limit(to arenas: Int32 = 1) {
        _ = fieldproof_limit_malloc_arenas(arenas)
    }
}
