/// The one duration grammar, for configuration files (device and
/// aggregator), command-line options and the HTTP API: a number, optionally
/// with a decimal fraction, and a unit: `ms`, `s`, `m`, `h` or `d`
/// (`500ms`, `30s`, `1.5m`, `24h`, `7d`; spaces are ignored, `10 s`).
///
/// At most `maximum`, 3650 days (ten years): anything longer is a typo, and
/// the bound keeps every duration's milliseconds far from `Int64`'s limit,
/// so adding one to a Unix time in milliseconds cannot overflow. Negative
/// values, a number without a unit, and anything else are refused with a
/// `DurationText.Problem` that says what a correct value looks like. Zero
/// parses; callers that need more check it (`parse(_:minimum:)`).
public enum DurationText {
    /// 3650 days.
    public static let maximum: Duration = .seconds(3650 * 86_400)

    public static let units: [(suffix: String, milliseconds: Int64)] = [
        ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
    ]

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case notADuration(String)
        case negative(String)
        case tooLong(String)
        case tooShort(String, minimum: Duration)

        public var description: String {
            switch self {
            case let .notADuration(text):
                return "\"\(text)\" is not a duration (a number with ms, s, m, h or d)"
            case let .negative(text):
                return "\(text) is negative; a duration is a number of ms, s, m, h or d that is zero or more"
            case let .tooLong(text):
                return "\(text) is longer than the maximum of \(DurationText.format(DurationText.maximum)) (ten years)"
            case let .tooShort(text, minimum):
                return "\(text) is shorter than the minimum of \(DurationText.format(minimum))"
            }
        }
    }

    /// Parses `text`; zero is allowed.
    public static func parse(_ text: String) throws(Problem) -> Duration {
        let trimmed = String(text.unicodeScalars.filter { $0 != " " })
        var digits = Substring(trimmed)
        let negative = digits.hasPrefix("-")
        if negative { digits = digits.dropFirst() }
        guard let unit = digits.hasSuffix("ms") ? units[0] : units.dropFirst().first(where: { digits.hasSuffix($0.suffix) }) else {
            throw .notADuration(text)
        }
        let number = digits.dropLast(unit.suffix.count)
        // Digits with at most one decimal point, at least one digit: no
        // exponents, signs, `inf` or `nan`, which Double(_:) would take.
        let points = number.filter { $0 == "." }.count
        guard !number.isEmpty, points <= 1, number.contains(where: \.isASCIIDigit),
              number.allSatisfy({ $0.isASCIIDigit || $0 == "." }), let value = Double(number), value.isFinite
        else { throw .notADuration(text) }
        if negative && value != 0 { throw .negative(text) }
        let milliseconds = value * Double(unit.milliseconds)
        guard milliseconds <= Double(maximumMilliseconds) else { throw .tooLong(text) }
        return .milliseconds(Int64(milliseconds.rounded()))
    }

    /// Parses `text` and refuses anything shorter than `minimum`.
    public static func parse(_ text: String, minimum: Duration) throws(Problem) -> Duration {
        let value = try parse(text)
        guard value >= minimum else { throw .tooShort(text, minimum: minimum) }
        return value
    }

    /// Parses an operator's `--expires` or `?expires=`: more than zero.
    public static func parsePositive(_ text: String) throws(Problem) -> Duration {
        try parse(text, minimum: .milliseconds(1))
    }

    static let maximumMilliseconds: Int64 = 3650 * 86_400_000

    /// Whole milliseconds of `duration` (rounded down); nil when it does not fit in Int64.
    public static func milliseconds(_ duration: Duration) -> Int64? {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return nil }
        let (total, overflow2) = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        return overflow2 ? nil : total
    }

    /// A duration as a config file would write it: `500ms`, `10s`, `5m`, `1h`, `7d`.
    public static func format(_ duration: Duration) -> String {
        guard let milliseconds = milliseconds(duration) else { return "\(duration)" }
        if milliseconds % 86_400_000 == 0 && milliseconds > 0 { return "\(milliseconds / 86_400_000)d" }
        if milliseconds % 3_600_000 == 0 && milliseconds > 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 && milliseconds > 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
