import CLinuxSupport
import LinuxService
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The time a reading is stamped with, and what lets the aggregator fix it
/// later: boards without a real-time clock start with a wrong wall clock,
/// so each stamp also carries this boot's id and the milliseconds since
/// boot; once a message of the same boot arrives with a synchronised clock,
/// the aggregator can re-time the earlier ones.
public struct ClockReading: Equatable, Sendable {
    /// Unix time in milliseconds; never goes backwards within a boot.
    public var unixMilliseconds: UInt64
    /// Whether the kernel considers the clock synchronised (NTP or PTP).
    public var synchronised: Bool
    /// /proc/sys/kernel/random/boot_id as 16 bytes.
    public var bootID: [UInt8]
    public var millisecondsSinceBoot: UInt64
}

public final class DeviceClock: Sendable {
    private let wall: @Sendable () -> UInt64
    private let sinceBoot: @Sendable () -> UInt64
    private let isSynchronised: @Sendable () -> Bool
    public let bootID: [UInt8]
    /// The highest stamp given, so stamps never go backwards within a boot.
    private let last = Mutex<UInt64>(0)

    public init(bootIDPath: String = "/proc/sys/kernel/random/boot_id",
                wall: @escaping @Sendable () -> UInt64 = WallClock.milliseconds,
                sinceBoot: @escaping @Sendable () -> UInt64 = WallClock.millisecondsSinceBoot,
                isSynchronised: @escaping @Sendable () -> Bool = DeviceClock.kernelSaysSynchronised) {
        self.wall = wall
        self.sinceBoot = sinceBoot
        self.isSynchronised = isSynchronised
        let text = (try? FileIO.readFile(bootIDPath)).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        self.bootID = DeviceClock.parseBootID(text) ?? [UInt8](repeating: 0, count: 16)
    }

    public func now() -> ClockReading {
        let synchronised = isSynchronised()
        let boot = sinceBoot()
        let stamp = last.withLock { last in
            last = max(last, wall())
            return last
        }
        return ClockReading(unixMilliseconds: stamp, synchronised: synchronised, bootID: bootID, millisecondsSinceBoot: boot)
    }

    /// "b033245c-87b3-42a3-a204-e4cbf65d0a14" → 16 bytes.
    static func parseBootID(_ text: String) -> [UInt8]? {
        let hex = Array(text.unicodeScalars.filter { $0 != "-" && $0 != "\n" && $0 != " " })
        guard hex.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 32, by: 2) {
            guard let byte = UInt8(String(String.UnicodeScalarView(hex[index...index + 1])), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    /// The kernel's view (adjtimex): synchronised unless STA_UNSYNC is set,
    /// which it is until an NTP daemon (or systemd-timesyncd) disciplines it.
    public static func kernelSaysSynchronised() -> Bool {
        fieldproof_clock_synchronised() == 1
    }
}
