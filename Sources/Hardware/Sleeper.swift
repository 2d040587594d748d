#if canImport(Glibc)
import Glibc
#endif

/// How drivers wait (conversion times, power-up): injected, so tests of
/// timing run instantly and can check what was waited.
public protocol Sleeper: Sendable {
    func sleep(milliseconds: Double)
}

/// The real thing: nanosleep.
public struct SystemSleeper: Sleeper {
    public init() {}

    public func sleep(milliseconds: Double) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: Int(milliseconds / 1000), tv_nsec: Int((milliseconds.truncatingRemainder(dividingBy: 1000)) * 1_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
    }
}
