import LinuxService
import ServiceLifecycle

/// Returns the heap's free pages to the kernel every `interval`, so that
/// resident memory follows what the service holds rather than the highest
/// it ever held (see `GlibcMalloc.releaseFreePages`). Measured with
/// `fieldproof-bench aggregator-memory`: without it the heap ended 600 KiB
/// higher after 1,000,000 messages than after 100,000, in steps at bursts.
/// The service runs it every second: with 10 s, what a burst freed stayed
/// resident up to 10 s, and the benchmark's checkpoints (2 s after a burst)
/// read 52.1-57.4 MiB (ratio 1.01 in that run); with 1 s, 51.6-55.3 MiB
/// (0.97). The heap still moves by about 3 MiB between checkpoints with no
/// trend: free chunks smaller than a page between live allocations.
struct HeapTrimService<C: Clock>: Service where C.Duration == Duration {
    let interval: Duration
    let clock: C

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await clock.sleep(for: interval)
                GlibcMalloc.releaseFreePages()
            }
        }
    }
}
