/// How a value in the wire's SI unit is shown to people: °C for K, hPa for
/// Pa, µg/m³ for kg/m³, with a precision that fits the quantity.
///
/// The wire, the stores and JSON keep SI (docs/wire-format.md); only the
/// places people read (`fieldproof read`, `status`, `fieldproof-aggregator
/// tally`, the dashboard, CSV on request) convert, all through this one
/// table, so they never disagree. Every conversion is affine:
/// shown = si × scale + offset.
public struct DisplayUnit: Equatable, Sendable {
    /// What is printed after the number.
    public var symbol: String
    public var scale: Double
    public var offset: Double
    /// Digits after the decimal point.
    public var decimals: Int
    /// Drop zeros at the end of the fraction (a count reads `3`, its mean `0.5`).
    public var trimsZeros: Bool

    public init(symbol: String, scale: Double = 1, offset: Double = 0, decimals: Int, trimsZeros: Bool = false) {
        self.symbol = symbol
        self.scale = scale
        self.offset = offset
        self.decimals = decimals
        self.trimsZeros = trimsZeros
    }

    /// The unit people read for a value the wire carries in `unit`; the
    /// quantity picks between readings of one SI unit (a particle size in
    /// m is shown in µm). A unit not in the table is shown as it is.
    public static func forSI(_ unit: String, quantity: String? = nil) -> DisplayUnit {
        switch (unit, quantity) {
        case ("m", "typical_particle_size"): DisplayUnit(symbol: "µm", scale: 1e6, decimals: 2)
        case ("K", _): DisplayUnit(symbol: "°C", offset: -273.15, decimals: 2)
        case ("Pa", _): DisplayUnit(symbol: "hPa", scale: 0.01, decimals: 2)
        case ("%", _): DisplayUnit(symbol: "%", decimals: 1)
        case ("lx", _): DisplayUnit(symbol: "lx", decimals: 1)
        case ("ppm", _): DisplayUnit(symbol: "ppm", decimals: 0)
        case ("kg/m3", _): DisplayUnit(symbol: "µg/m³", scale: 1e9, decimals: 1)
        case ("1/m3", _): DisplayUnit(symbol: "/cm³", scale: 1e-6, decimals: 1)
        case ("Ohm", _): DisplayUnit(symbol: "kΩ", scale: 1e-3, decimals: 1)
        case ("V", _), ("A", _), ("W", _): DisplayUnit(symbol: unit, decimals: 3)
        case ("mm", _): DisplayUnit(symbol: "mm", decimals: 2)
        case ("m/s", _): DisplayUnit(symbol: "m/s", decimals: 1)
        case ("1", _): DisplayUnit(symbol: "", decimals: 2, trimsZeros: true)
        default: DisplayUnit(symbol: unit, decimals: 3)
        }
    }

    /// The SI value in this unit.
    public func value(_ si: Double) -> Double { si * scale + offset }

    /// A sum of `count` SI values in this unit (the offset counts once per value).
    public func sum(_ si: Double, count: Int) -> Double { si * scale + offset * Double(count) }

    /// The number alone, with this unit's precision: `21.50`.
    public func number(_ si: Double) -> String { shown(value(si)) }

    /// A value already in this unit (a converted sum), with its precision.
    public func shown(_ value: Double) -> String {
        let text = Self.fixed(value, decimals: decimals)
        guard trimsZeros, text.contains(".") else { return text }
        let trimmed = text.reversed().drop { $0 == "0" }.drop { $0 == "." }
        return String(trimmed.reversed())
    }

    /// The number and the symbol: `21.50 °C`.
    public func text(_ si: Double) -> String { symbol.isEmpty ? number(si) : number(si) + " " + symbol }

    /// `value` with exactly `decimals` digits after the point, rounded half
    /// away from zero; a value too large for that (or not finite) as Swift
    /// prints it.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        var power = 1.0
        for _ in 0..<max(0, decimals) { power *= 10 }
        let scaled = (abs(value) * power).rounded()
        guard value.isFinite, scaled < 9e15 else { return String(value) }
        let digits = String(UInt64(scaled))
        let negative = value < 0 && scaled > 0
        guard decimals > 0 else { return (negative ? "-" : "") + digits }
        let padded = String(repeating: "0", count: max(0, decimals + 1 - digits.count)) + digits
        return (negative ? "-" : "") + padded.dropLast(decimals) + "." + padded.suffix(decimals)
    }
}

/// Which units a human-facing output uses.
public enum UnitSystem: String, CaseIterable, Sendable {
    /// °C, hPa, µg/m³, … (`DisplayUnit`).
    case display
    /// The wire's SI values and units, unrounded.
    case si

    /// `value` (in SI `unit`) as this system writes it, with its symbol.
    public func text(_ value: Double, unit: String, quantity: String? = nil) -> String {
        switch self {
        case .display: DisplayUnit.forSI(unit, quantity: quantity).text(value)
        case .si: unit == "1" ? String(value) : "\(value) \(unit)"
        }
    }
}
