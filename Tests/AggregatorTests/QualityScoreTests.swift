import Aggregator
import Testing

@Suite struct QualityScoreTests {
    let hour: Int64 = 3_600_000

    func series(_ values: [Double], every milliseconds: Int64 = 60_000) -> [(at: Int64, value: Double)] {
        values.enumerated().map { (Int64($0.offset) * milliseconds, $0.element) }
    }

    func check(_ score: QualityScore, _ name: String) -> Double? {
        score.checks.first { $0.name == name }?.value
    }

    @Test func aCompleteSmoothSeriesScoresOne() {
        let values = (0..<60).map { 290 + Double($0) * 0.05 }
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(score.score == 1)
        #expect(score.checks.map(\.name) == ["completeness", "validity", "not_stuck", "no_jumps"])
    }

    @Test func missingSlotsLowerCompleteness() {
        let values = (0..<30).map { 290 + Double($0) * 0.05 }
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(score, "completeness") == 0.5)
        #expect(abs(score.score - (0.3 * 0.5 + 0.7)) < 1e-12)
    }

    @Test func outOfRangeValuesLowerValidity() {
        var values = (0..<60).map { 290 + Double($0) * 0.05 }
        values[10] = 400 // 127 °C
        values[20] = .nan
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(score, "validity") == 58.0 / 60.0)
    }

    @Test func aStuckSensorIsNoticed() {
        let values = (0..<30).map { 290 + Double($0) * 0.05 } + Array(repeating: 291.5, count: 30)
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        // The last 30 readings are one identical run (the one before them is 291.45).
        #expect(check(score, "not_stuck") == 0.5)
    }

    @Test func shortRepeatsAreNotStuck() {
        let values = (0..<60).map { 290 + Double($0 / 5) } // runs of 5
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(score, "not_stuck") == 1)
    }

    @Test func impossibleJumpsAreCounted() {
        var values = (0..<60).map { 290 + Double($0) * 0.05 }
        values[30] += 20 // +20 K in one minute, and back
        let score = QualityScore.evaluate(samples: series(values), quantity: "temperature", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(score, "no_jumps") == 1 - 2.0 / 59.0)
    }

    /// A rain gauge reads 0 mm all through a dry hour: that is rest. The
    /// same run at 0.2794 mm (one tip every reading, for an hour) is stuck.
    @Test func aRunOfZeroIsRestForRainNotForTemperature() {
        let dry = QualityScore.evaluate(samples: series(Array(repeating: 0, count: 60)), quantity: "precipitation", epochMilliseconds: hour,
                                        declaredIntervalMilliseconds: 60_000)
        #expect(check(dry, "not_stuck") == 1)
        let tipping = QualityScore.evaluate(samples: series(Array(repeating: 0.2794, count: 60)), quantity: "precipitation", epochMilliseconds: hour,
                                            declaredIntervalMilliseconds: 60_000)
        #expect(check(tipping, "not_stuck") == 0)
        let frozen = QualityScore.evaluate(samples: series(Array(repeating: 0, count: 60)), quantity: "temperature", epochMilliseconds: hour,
                                           declaredIntervalMilliseconds: 60_000)
        #expect(check(frozen, "not_stuck") == 0, "0 K is no rest")
    }

    /// Particulates in kg/m³: 35 µg/m³ is 3.5e-8, inside; 1500 µg/m³ is past
    /// what an SPS30 measures, so a reading of it (or a value left in µg/m³,
    /// 35 as kg/m³) is not valid. Smoke arrives at once: no jump check.
    @Test func particulatesAreJudgedInKilogramsPerCubicMetre() {
        let clean = QualityScore.evaluate(samples: series([3.5e-8, 2.0e-7, 3.0e-8, 4.0e-8]), quantity: "pm2_5", epochMilliseconds: 240_000,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(clean.score == 1)
        let wrong = QualityScore.evaluate(samples: series([3.5e-8, 1.5e-6, 35, 4.0e-8]), quantity: "pm2_5", epochMilliseconds: 240_000,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(wrong, "validity") == 0.5)
        #expect(PlausibleRange.forQuantity("gas_resistance")?.range.contains(180_000) == true)
    }

    @Test func illuminanceMayJump() {
        let values = (0..<60).map { $0 % 2 == 0 ? 100.0 : 80_000.0 }
        let score = QualityScore.evaluate(samples: series(values), quantity: "illuminance", epochMilliseconds: hour,
                                          declaredIntervalMilliseconds: 60_000)
        #expect(check(score, "no_jumps") == 1)
    }

    @Test func nothingReceivedScoresZero() {
        let score = QualityScore.evaluate(samples: [], quantity: "temperature", epochMilliseconds: hour, declaredIntervalMilliseconds: 60_000)
        #expect(score.score == 0)
    }
}
