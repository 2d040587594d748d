/// How long delivery waits for the aggregator's acknowledgement before it
/// sends again: the retransmission timer of RFC 6298 (TCP), computed from
/// measured round trips instead of a fixed figure.
///
/// A fixed timeout shorter than the real round trip is a congestion
/// collapse: every expiry sends a whole window again, the duplicates queue
/// in front of new records, the round trip grows, and the next expiry comes
/// sooner relative to it. Found when a loaded CI machine (acknowledgements
/// taking over a second, `resend_after: 1s`) delivered ~35 messages a second
/// and a daemon could not drain 700 records in 60 s.
///
/// - The first sample sets SRTT = R and RTTVAR = R/2 (RFC 6298 §2.2); later
///   ones RTTVAR = ¾·RTTVAR + ¼·|SRTT − R|, then SRTT = ⅞·SRTT + ⅛·R (§2.3).
/// - The timeout is SRTT + max(G, 4·RTTVAR), kept within
///   [`minimum`, `maximum`] (§2.4, §2.5); before any sample it is `minimum`.
/// - Every expiry doubles it, up to `maximum` (§5.5); the next sample
///   computes it afresh, and so does `forgetBackoff()` (for expiries that
///   measured an outage, not the path).
/// - Callers sample only records sent once (Karn's rule, §3): the
///   acknowledgement of a resent record does not say which copy it answers.
struct RetransmissionTimer: Sendable, Equatable {
    /// The configured `resend_after`: never resend sooner than this.
    let minimum: Duration
    let maximum: Duration
    /// G: how often the caller looks at the timer.
    let granularity: Duration
    private(set) var smoothedRoundTrip: Duration?
    private(set) var roundTripVariation: Duration = .zero
    private(set) var timeout: Duration
    /// The timeout from the samples alone, before any backoff.
    private var computed: Duration

    init(minimum: Duration, maximum: Duration, granularity: Duration) {
        self.minimum = minimum
        self.maximum = Swift.max(minimum, maximum)
        self.granularity = granularity
        timeout = minimum
        computed = minimum
    }

    mutating func record(roundTrip sample: Duration) {
        let sample = Swift.max(sample, .zero)
        if let smoothed = smoothedRoundTrip {
            let deviation = smoothed > sample ? smoothed - sample : sample - smoothed
            roundTripVariation = roundTripVariation * 3 / 4 + deviation / 4
            smoothedRoundTrip = smoothed * 7 / 8 + sample / 8
        } else {
            smoothedRoundTrip = sample
            roundTripVariation = sample / 2
        }
        let smoothed = smoothedRoundTrip ?? sample
        computed = bounded(smoothed + Swift.max(granularity, roundTripVariation * 4))
        timeout = computed
    }

    /// Back to the timeout the samples give, without the doublings.
    mutating func forgetBackoff() {
        timeout = computed
    }

    /// The timer expired: wait twice as long before the next resend.
    mutating func backOff() {
        timeout = bounded(timeout * 2)
    }

    private func bounded(_ value: Duration) -> Duration {
        Swift.min(maximum, Swift.max(minimum, value))
    }
}
