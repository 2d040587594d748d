#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads of the system clocks, injectable where time matters.
public enum WallClock {
    /// Unix time in milliseconds (CLOCK_REALTIME; may jump, may be wrong
    /// on a board without RTC before NTP).
    public static func milliseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return UInt64(max(0, spec.tv_sec)) * 1000 + UInt64(max(0, spec.tv_nsec)) / 1_000_000
    }

    /// Milliseconds since boot (CLOCK_BOOTTIME: counts suspend, never jumps).
    public static func millisecondsSinceBoot() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_BOOTTIME, &spec)
        return UInt64(max(0, spec.tv_sec)) * 1000 + UInt64(max(0, spec.tv_nsec)) / 1_000_000
    }
}
