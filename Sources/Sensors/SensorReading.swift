// What a driver measures, before it has a sensor name or a wire.
//
// This is the one reading type below the wire, and it stays apart from
// `Telemetry.Reading` (Sources/Wire) on purpose:
// - drivers import only `Hardware` (Package.swift: `Sensors`); `Wire` brings
//   CBOR, COSE and swift-crypto, which a driver has no use for;
// - a driver returns what the chip said, without the configured sensor name,
//   which the station adds once, at the one place a reading crosses into the
//   daemon (`StationSampledSensor`, Sources/fieldproof);
// - it carries the datasheet's out-of-range flag, which `fieldproof read`
//   prints; the wire has no field for it (the aggregator judges a value's
//   validity itself, `QualityScore`), so the flag stops at the device;
// - likewise its "not settled" flag (a BME680's gas reading during burn-in
//   or with its heater off target), which `fieldproof read` prints too.

/// One measured value, in SI units, with the quantity it measures.
public struct SensorReading: Equatable, Sendable {
    /// `temperature`, `relative_humidity`, `pressure`, `illuminance`,
    /// `carbon_dioxide`, `voltage`, `current`, `power`, `gas_resistance`,
    /// `pm2_5` (and the other PM sizes), `precipitation`, `wind_speed`, `state`.
    public var quantity: String
    public var value: Double
    /// `K`, `%`, `Pa`, `lx`, `ppm`, `V`, `mm`, `m/s`, `Ohm`, `1`.
    public var unit: String
    /// Outside the sensor's datasheet operating range: reported, flagged.
    public var outOfRange: Bool
    /// The sensor says the value has not settled yet (a metal-oxide gas
    /// sensor in its burn-in, or its heater short of its target): reported,
    /// flagged, not to be trusted as a measurement of the air yet.
    public var settling: Bool

    public init(quantity: String, value: Double, unit: String, outOfRange: Bool = false, settling: Bool = false) {
        self.quantity = quantity
        self.value = value
        self.unit = unit
        self.outOfRange = outOfRange
        self.settling = settling
    }

    /// A Celsius value as an SI temperature (kelvin), flagged against a range in °C.
    public static func temperature(celsius: Double, range: ClosedRange<Double>) -> SensorReading {
        SensorReading(quantity: "temperature", value: celsius + 273.15, unit: "K", outOfRange: !range.contains(celsius))
    }

    public static func relativeHumidity(_ percent: Double, range: ClosedRange<Double> = 0...100) -> SensorReading {
        SensorReading(quantity: "relative_humidity", value: percent, unit: "%", outOfRange: !range.contains(percent))
    }
}

