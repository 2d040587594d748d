@testable import Agent
import Testing

/// Figures worked by hand from RFC 6298 §2: α = 1/8, β = 1/4, K = 4.
struct RetransmissionTimerTests {
    @Test func beforeAnySampleTheTimeoutIsTheConfiguredMinimum() {
        let timer = RetransmissionTimer(minimum: .seconds(1), maximum: .seconds(60), granularity: .milliseconds(250))
        #expect(timer.timeout == .seconds(1))
        #expect(timer.smoothedRoundTrip == nil)
    }

    @Test func samplesFollowTheSmoothingOfRFC6298() {
        var timer = RetransmissionTimer(minimum: .seconds(1), maximum: .seconds(60), granularity: .milliseconds(250))
        // First sample R = 2 s: SRTT = 2, RTTVAR = 1, RTO = 2 + 4·1 = 6 s.
        timer.record(roundTrip: .seconds(2))
        #expect(timer.smoothedRoundTrip == .seconds(2))
        #expect(timer.roundTripVariation == .seconds(1))
        #expect(timer.timeout == .seconds(6))
        // R = 1 s: RTTVAR = ¾·1 + ¼·|2 − 1| = 1, SRTT = ⅞·2 + ⅛·1 = 1.875, RTO = 5.875 s.
        timer.record(roundTrip: .seconds(1))
        #expect(timer.roundTripVariation == .seconds(1))
        #expect(timer.smoothedRoundTrip == .milliseconds(1875))
        #expect(timer.timeout == .milliseconds(5875))
        // R = 1 s: RTTVAR = ¾·1 + ¼·0.875 = 0.96875, SRTT = ⅞·1.875 + ⅛ = 1.765625, RTO = 5.640625 s.
        timer.record(roundTrip: .seconds(1))
        #expect(timer.roundTripVariation == .microseconds(968_750))
        #expect(timer.smoothedRoundTrip == .microseconds(1_765_625))
        #expect(timer.timeout == .microseconds(5_640_625))
    }

    @Test func eachExpiryDoublesTheTimeoutUpToTheMaximumAndTheNextSampleResetsIt() {
        var timer = RetransmissionTimer(minimum: .seconds(1), maximum: .seconds(60), granularity: .milliseconds(250))
        timer.record(roundTrip: .seconds(2)) // RTO 6 s
        timer.backOff()
        #expect(timer.timeout == .seconds(12))
        timer.backOff()
        timer.backOff()
        #expect(timer.timeout == .seconds(48))
        timer.backOff()
        #expect(timer.timeout == .seconds(60))
        timer.backOff()
        #expect(timer.timeout == .seconds(60))
        // R = 2 s: RTTVAR = ¾·1 + 0 = 0.75, SRTT = 2, RTO = 2 + 3 = 5 s.
        timer.record(roundTrip: .seconds(2))
        #expect(timer.timeout == .seconds(5))
    }

    /// After an outage its expiries are forgotten: back to what the samples give.
    @Test func forgettingTheBackoffReturnsToTheSampledTimeout() {
        var timer = RetransmissionTimer(minimum: .seconds(1), maximum: .seconds(60), granularity: .milliseconds(250))
        timer.backOff()
        timer.forgetBackoff()
        #expect(timer.timeout == .seconds(1), "no sample yet: the minimum")
        timer.record(roundTrip: .seconds(2)) // RTO 6 s
        timer.backOff()
        timer.backOff()
        #expect(timer.timeout == .seconds(24))
        timer.forgetBackoff()
        #expect(timer.timeout == .seconds(6))
    }

    @Test func theTimeoutNeverDropsBelowTheMinimumNorTheClockGranularity() {
        var fast = RetransmissionTimer(minimum: .seconds(1), maximum: .seconds(60), granularity: .milliseconds(250))
        for _ in 0..<50 { fast.record(roundTrip: .milliseconds(10)) }
        #expect(fast.timeout == .seconds(1))

        // R = 100 ms: SRTT = 0.1, 4·RTTVAR = 0.2 < G = 0.25, so RTO = 0.35 s.
        var fine = RetransmissionTimer(minimum: .milliseconds(100), maximum: .seconds(60), granularity: .milliseconds(250))
        fine.record(roundTrip: .milliseconds(100))
        #expect(fine.timeout == .milliseconds(350))
    }
}
