/// A data-quality score per device, metric and epoch in [0, 1], built from
/// documented checks of the kind DePIN weather networks publish for their
/// rewards. Each check scores in [0, 1]; the score is their weighted mean,
/// and every check's value and weight is visible in the API.
///
/// | check | scores | weight |
/// |---|---|---|
/// | `completeness` | received samples ÷ expected (epoch length ÷ declared interval), at most 1 | 0.3 |
/// | `validity` | share of readings that are finite and inside the quantity's plausible range | 0.3 |
/// | `not_stuck` | share of readings *not* in a run of ≥ `stuckRun` identical consecutive values (a run of 0 does not count for rain, light and wind, which rest there) | 0.2 |
/// | `no_jumps` | share of consecutive pairs whose rate of change is physically possible | 0.2 |
public struct QualityScore: Equatable, Sendable, Codable {
    public struct Check: Equatable, Sendable, Codable {
        public var name: String
        public var value: Double
        public var weight: Double
    }

    public var score: Double
    public var checks: [Check]

    public static let stuckRun = 6

    /// `samples` are (Unix ms, value) of one metric in one epoch, in any order.
    public static func evaluate(samples: [(at: Int64, value: Double)], quantity: String, epochMilliseconds: Int64,
                                declaredIntervalMilliseconds: Int64?) -> QualityScore {
        let ordered = samples.sorted { $0.at < $1.at }
        let limits = PlausibleRange.forQuantity(quantity)

        let expected = declaredIntervalMilliseconds.map { max(1, Double(epochMilliseconds) / Double(max(1, $0))) }
        let completeness = expected.map { min(1, Double(ordered.count) / $0) } ?? (ordered.isEmpty ? 0 : 1)

        let valid = ordered.filter { $0.value.isFinite && (limits?.range.contains($0.value) ?? true) }.count
        let validity = ordered.isEmpty ? 0 : Double(valid) / Double(ordered.count)

        var stuck = 0
        var runStart = 0
        for index in 0...ordered.count where index == ordered.count || ordered[index].value != ordered[runStart].value {
            let resting = limits?.restsAtZero == true && ordered[runStart].value == 0
            if index - runStart >= stuckRun, !resting { stuck += index - runStart }
            runStart = index
        }
        let notStuck = ordered.isEmpty ? 0 : 1 - Double(stuck) / Double(ordered.count)

        var impossible = 0
        if let maximumRate = limits?.maximumRatePerMinute {
            for (previous, next) in zip(ordered, ordered.dropFirst()) {
                let minutes = max(Double(next.at - previous.at) / 60_000, 1.0 / 60)
                if abs(next.value - previous.value) / minutes > maximumRate { impossible += 1 }
            }
        }
        let pairs = max(0, ordered.count - 1)
        let noJumps = ordered.isEmpty ? 0 : (pairs == 0 ? 1 : 1 - Double(impossible) / Double(pairs))

        let checks = [
            Check(name: "completeness", value: completeness, weight: 0.3),
            Check(name: "validity", value: validity, weight: 0.3),
            Check(name: "not_stuck", value: notStuck, weight: 0.2),
            Check(name: "no_jumps", value: noJumps, weight: 0.2),
        ]
        let score = checks.reduce(0) { $0 + $1.value * $1.weight } / checks.reduce(0) { $0 + $1.weight }
        return QualityScore(score: score, checks: checks)
    }
}

/// What values of a quantity are physically plausible near the ground, and
/// how fast they can change (per minute); nil rate: no jump check.
public struct PlausibleRange: Equatable, Sendable {
    public var range: ClosedRange<Double>
    public var maximumRatePerMinute: Double?
    /// Reads 0 for hours when nothing happens (no rain, a dark night, calm
    /// air): a run of 0 is rest, not a stuck sensor.
    public var restsAtZero = false

    public init(range: ClosedRange<Double>, maximumRatePerMinute: Double?, restsAtZero: Bool = false) {
        self.range = range
        self.maximumRatePerMinute = maximumRatePerMinute
        self.restsAtZero = restsAtZero
    }

    public static func forQuantity(_ quantity: String) -> PlausibleRange? {
        switch quantity {
        case "temperature": PlausibleRange(range: 183.15...343.15, maximumRatePerMinute: 5)          // K: −90…70 °C
        case "relative_humidity", "humidity": PlausibleRange(range: 0...100, maximumRatePerMinute: 30) // %
        case "pressure": PlausibleRange(range: 30_000...110_000, maximumRatePerMinute: 300)          // Pa
        case "illuminance": PlausibleRange(range: 0...150_000, maximumRatePerMinute: nil, restsAtZero: true) // lx: clouds change it at once
        case "co2", "carbon_dioxide": PlausibleRange(range: 250...40_000, maximumRatePerMinute: 5_000) // ppm
        case "precipitation", "rain": PlausibleRange(range: 0...500, maximumRatePerMinute: nil, restsAtZero: true) // mm per reading
        case "wind_speed": PlausibleRange(range: 0...75, maximumRatePerMinute: nil, restsAtZero: true)             // m/s: gusts
        // Particulates: smoke comes and goes at once. kg/m³ (1000 µg/m³, the
        // SPS30's range, is 1e-6), 1/m³ (3000 per cm³), m.
        case "pm1_0", "pm2_5", "pm4_0", "pm10": PlausibleRange(range: 0...1e-6, maximumRatePerMinute: nil)
        case "pm0_5_count", "pm1_0_count", "pm2_5_count", "pm4_0_count", "pm10_count": PlausibleRange(range: 0...3e9, maximumRatePerMinute: nil)
        case "typical_particle_size": PlausibleRange(range: 0...1e-5, maximumRatePerMinute: nil)
        case "gas_resistance": PlausibleRange(range: 10...2e8, maximumRatePerMinute: nil)          // Ω: a heated MOX layer
        default: nil
        }
    }
}
