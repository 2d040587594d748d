/// A fault injected into one simulated chip for a while: what the
/// aggregator's quality score (`QualityScore`) has to catch.
public struct InjectedFault: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// The chip keeps giving what it measured when the fault began
        /// (a frozen ADC, a firmware hang): caught by `not_stuck`.
        case stuck
        /// Its values jump far (a loose contact, a wet board): caught by `no_jumps`.
        case spike
        /// It stops answering on the bus: caught by `completeness`.
        case dropout
    }

    public var kind: Kind
    /// The chip's simulated bus (1 or 2) and I2C address.
    public var bus: Int
    public var address: UInt16
    /// When it begins, Unix seconds, and for how long.
    public var start: Double
    public var duration: Double

    public init(_ kind: Kind, bus: Int = 1, address: UInt16, start: Double, duration: Double) {
        self.kind = kind
        self.bus = bus
        self.address = address
        self.start = start
        self.duration = duration
    }

    public func isActive(atUnixSeconds time: Double) -> Bool { time >= start && time < start + duration }
}

extension SimulatedEnvironment.Conditions {
    /// What a spiking chip reports: far from the truth, further than
    /// weather can move in a minute.
    var spiked: Self {
        var spiked = self
        spiked.airCelsius += 15
        spiked.enclosureCelsius += 15
        spiked.relativeHumidity = min(100, relativeHumidity + 35)
        spiked.hectopascal += 25
        spiked.lux *= 4
        spiked.carbonDioxidePPM += 8000
        spiked.batteryVolts += 6
        spiked.gasResistanceOhms /= 10
        return spiked
    }
}
