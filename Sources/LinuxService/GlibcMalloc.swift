import CLinuxSupport

/// Two settings of glibc's malloc that a service running for months needs.
public enum GlibcMalloc {
    /// glibc's malloc gives a thread that finds the heap locked an arena of
    /// its own (up to 8 per core). In a long-running service whose threads
    /// free each other's allocations (Swift's cooperative pool, Dispatch
    /// queues, the MQTT network thread), memory then spreads over several
    /// arenas that fragment independently: the aggregator's resident memory
    /// kept creeping up (about 1 KiB per 1,000 messages) with the default and
    /// stayed flat with one arena, at the same throughput within noise on 2
    /// cores (`fieldproof-bench aggregator-memory`). Call it first thing in a
    /// long-running command, before threads start.
    public static func limitArenas(to arenas: Int32 = 1) {
        _ = fieldproof_limit_malloc_arenas(arenas)
    }

    /// Gives the kernel back the free pages inside the heap, not only at its
    /// top (malloc_trim(3)). glibc returns memory on its own only when the
    /// top of the heap is free; a burst (a commit stalled behind a WAL
    /// checkpoint while a thousand messages wait) leaves free holes below
    /// live allocations that stay resident. Returns whether anything was
    /// released. Cheap at our heap sizes (it walks the free lists).
    @discardableResult
    public static func releaseFreePages() -> Bool {
        fieldproof_release_free_heap_pages() == 1
    }
}
