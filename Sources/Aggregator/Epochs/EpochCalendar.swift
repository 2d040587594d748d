/// Which epoch a reading belongs to, what an epoch is called, and when it
/// may close. Epochs are aligned to the Unix epoch (an hour-long epoch
/// starts on the hour, UTC), so two aggregators agree without talking.
public struct EpochCalendar: Equatable, Sendable {
    public let lengthMilliseconds: Int64
    /// How long after its end an epoch stays open for late messages.
    public let graceMilliseconds: Int64

    public init(length: Duration, grace: Duration) {
        lengthMilliseconds = max(1000, Self.milliseconds(length))
        graceMilliseconds = max(0, Self.milliseconds(grace))
    }

    /// Start of the epoch holding `timestamp` (Unix ms).
    public func start(of timestamp: Int64) -> Int64 {
        let remainder = timestamp % lengthMilliseconds
        return timestamp - (remainder >= 0 ? remainder : remainder + lengthMilliseconds)
    }

    public func end(ofEpochStartingAt start: Int64) -> Int64 { start + lengthMilliseconds }

    /// The latest epoch start whose epoch may be closed at `now`.
    public func lastClosable(at now: Int64) -> Int64? {
        let boundary = now - graceMilliseconds
        let start = self.start(of: boundary) - lengthMilliseconds
        return start >= 0 ? start : nil
    }

    /// A readable, URL-safe id: the start in UTC and the length,
    /// `2026-11-24T23:00Z-1h`.
    public func id(ofEpochStartingAt start: Int64) -> String {
        "\(UTCText.minutes(start))-\(Self.lengthText(lengthMilliseconds))"
    }

    static func lengthText(_ milliseconds: Int64) -> String {
        if milliseconds % 86_400_000 == 0 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        return "\(milliseconds / 1000)s"
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// UTC calendar text without Foundation's formatters.
public enum UTCText {
    /// `2026-11-24T23:05Z`
    public static func minutes(_ milliseconds: Int64) -> String {
        let (date, secondOfDay) = split(milliseconds)
        return "\(date)T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60))Z"
    }

    /// `2026-11-24 23:05:09 UTC`
    public static func seconds(_ milliseconds: Int64) -> String {
        let (date, secondOfDay) = split(milliseconds)
        return "\(date) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) UTC"
    }

    static func split(_ milliseconds: Int64) -> (String, Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let (year, month, day) = civil(fromDays: days)
        return ("\(year)-\(two(month))-\(two(day))", seconds - days * 86400)
    }

    static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
    /// `civil_from_days`).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
