import MQTT

/// Sends spooled records to the broker and lets them go only when the
/// aggregator's acknowledgement covers them.
///
/// - At most `window` publishes wait for their PUBACK at once.
/// - A PUBACK is not delivery (the aggregator may not have stored it, a
///   broker without persistence forgets its queue when it restarts), so
///   records stay in the spool until `acknowledged(upTo:)`.
/// - When nothing new has been acknowledged for the retransmission timeout
///   while records wait (or the connection came back), delivery goes back
///   to the acknowledgement and sends again (go-back-N); the aggregator
///   de-duplicates by sequence. The timeout follows measured round trips
///   (`RetransmissionTimer`, RFC 6298) and is never shorter than
///   `resendAfter`; like TCP's, it restarts whenever the acknowledgement
///   moves (RFC 6298 §5.3), so a steady stream of acknowledgements that
///   trails far behind is not mistaken for loss.
/// - While the acknowledgement does not move, a resend is one window past
///   it, not the whole spool, and each expiry doubles the wait and adds up
///   to `resendJitter` of it at random (a fleet that lost its aggregator
///   together does not resend in lock step). The first acknowledgement that
///   moves ends this: the rest goes out at once. Without it, an aggregator
///   whose Acks stopped for a minute got every device's spool again every
///   few seconds.
public actor DeliveryEngine<C: Clock> where C.Duration == Duration {
    public struct Statistics: Sendable, Equatable {
        public var published: UInt64 = 0
        public var resent: UInt64 = 0
        public var publishFailures: UInt64 = 0
        public var acknowledgedUpTo: UInt64 = 0
        public var inFlight = 0
        /// The retransmission timeout now in force.
        public var resendTimeout: Duration = .zero
    }

    private let spool: SharedSpool
    private let client: MQTTClient
    private let topic: String
    private let window: Int
    /// Every wait and timestamp comes from here (tests pass one they move).
    private let clock: C
    private var timer: RetransmissionTimer
    /// When the acknowledgement last moved; the timer counts from here or
    /// from the oldest waiting record's publish, whichever is later.
    private var lastProgress: C.Instant?
    private var cursor: UInt64
    private var inFlight = 0
    /// Counts window restarts; a publish from an earlier window does not
    /// give back a slot in the current one.
    private var generation: UInt64 = 0
    /// When each record above the acknowledgement was (last) published, and
    /// whether that was its first send (only those give round-trip samples).
    private var sentAt: [(sequence: UInt64, at: C.Instant, firstSend: Bool)] = []
    private var statistics = Statistics()
    private var everSent: Set<UInt64> = []
    /// Since a resend or a reconnect, and until the acknowledgement moves:
    /// nothing more than one window past it is sent.
    private var recovering = false
    /// Added to the timeout, drawn in [0, `resendJitter` × timeout) each time
    /// the timer is armed anew.
    private let resendJitter: Double
    private var jitter: Duration = .zero
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// How often `run` looks for overdue acknowledgements.
    static var tick: Duration { .milliseconds(250) }

    public init(spool: SharedSpool, client: MQTTClient, topic: String, window: Int = 32, resendAfter: Duration = .seconds(10),
                resendJitter: Double = 0.25, clock: C) {
        self.clock = clock
        self.resendJitter = min(max(resendJitter, 0), 1)
        self.spool = spool
        self.client = client
        self.topic = topic
        self.window = max(1, window)
        timer = RetransmissionTimer(minimum: resendAfter, maximum: max(.seconds(60), resendAfter), granularity: Self.tick)
        jitter = Self.jitter(for: timer.timeout, fraction: self.resendJitter)
        self.cursor = spool.statistics.acknowledgedUpTo
        (wakeups, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Something was appended, acknowledged or reconnected: look again.
    public nonisolated func kick() {
        wake.yield()
    }

    /// Runs until the task is cancelled: pumps on every kick and on a timer
    /// that notices overdue acknowledgements.
    public func run() async {
        let ticker = Task { [wake, clock] in
            while !Task.isCancelled {
                try? await clock.sleep(for: Self.tick)
                wake.yield()
            }
        }
        defer { ticker.cancel() }
        pump()
        for await _ in wakeups {
            if Task.isCancelled { break }
            pump()
        }
    }

    /// The aggregator's verified acknowledgement: every sequence up to
    /// `sequence` is committed. False when the spool could not record it
    /// (it keeps the records; the caller tries again).
    @discardableResult
    public func acknowledged(upTo sequence: UInt64) -> Bool {
        guard sequence > statistics.acknowledgedUpTo else { return true }
        do {
            try spool.acknowledge(upTo: sequence)
        } catch {
            return false
        }
        statistics.acknowledgedUpTo = sequence
        let now = clock.now
        if let answered = sentAt.first(where: { $0.sequence == sequence }), answered.firstSend {
            timer.record(roundTrip: answered.at.duration(to: now))
        }
        lastProgress = now
        recovering = false
        drawJitter()
        sentAt.removeAll { $0.sequence <= sequence }
        everSent = everSent.filter { $0 > sequence }
        if cursor < sequence { cursor = sequence }
        pump()
        return true
    }

    /// Waits until the spool is empty (everything acknowledged) or
    /// `timeout` passes; returns whether it emptied.
    public func drain(timeout: Duration) async -> Bool {
        if spool.statistics.records == 0 { return true }
        let deadline = clock.now.advanced(by: timeout)
        kick()
        while clock.now < deadline {
            if spool.statistics.records == 0 { return true }
            try? await clock.sleep(for: .milliseconds(50))
        }
        return spool.statistics.records == 0
    }

    public var currentStatistics: Statistics {
        var copy = statistics
        copy.inFlight = inFlight
        copy.resendTimeout = timer.timeout
        return copy
    }

    /// The connection came back: whatever was in flight may be lost with
    /// a broker that restarted, so send one window again from the
    /// acknowledgement. The expiries while the broker was away measured the
    /// outage, not the round trip: the timeout drops their backoff.
    public func connectionRestored() {
        timer.forgetBackoff()
        drawJitter()
        restartWindow(from: spool.statistics.acknowledgedUpTo)
        recovering = true
        pump()
    }

    private func drawJitter() {
        jitter = Self.jitter(for: timer.timeout, fraction: resendJitter)
    }

    private static func jitter(for timeout: Duration, fraction: Double) -> Duration {
        fraction > 0 ? timeout * Double.random(in: 0..<fraction) : .zero
    }

    /// Go-back-N: send again from the acknowledgement, in a new window.
    /// Publishes still waiting for a PUBACK (made before a reconnect or a
    /// resend) no longer count against it. Without this, a PUBACK lost with
    /// a restarted broker would hold a window slot forever; found by the
    /// daemon test with a 30 s broker outage, where delivery stopped for
    /// good after the broker came back.
    private func restartWindow(from acknowledged: UInt64) {
        cursor = acknowledged
        sentAt.removeAll()
        generation &+= 1
        inFlight = 0
    }

    /// Resends what is overdue, then fills the window. Not private: a test
    /// on a clock it moves pumps at an exact instant.
    func pump() {
        let acknowledged = spool.statistics.acknowledgedUpTo
        if cursor < acknowledged { cursor = acknowledged }
        if let oldest = sentAt.first {
            let waitingSince = max(oldest.at, lastProgress ?? oldest.at)
            if waitingSince.duration(to: clock.now) > timer.timeout + jitter {
                timer.backOff()
                drawJitter()
                restartWindow(from: acknowledged)
                recovering = true
            }
        }
        var room = window - inFlight
        if recovering {
            // Saturating: window ≤ 1000, a sequence ≤ 2^53 (the spool's bound).
            let limit = acknowledged.addingReportingOverflow(UInt64(window))
            room = limit.overflow || cursor >= limit.partialValue ? 0 : min(room, Int(limit.partialValue - cursor))
        }
        guard room > 0 else { return }
        let records: [SpoolRecord]
        do {
            records = try spool.records(after: cursor, limit: room)
        } catch {
            return
        }
        for record in records {
            cursor = record.sequence
            inFlight += 1
            let firstSend = everSent.insert(record.sequence).inserted
            sentAt.append((record.sequence, clock.now, firstSend))
            if firstSend { statistics.published += 1 } else { statistics.resent += 1 }
            let payload = record.payload
            let generation = generation
            Task { [client, topic] in
                do {
                    try await client.publish(topic: topic, payload: payload, qos: .atLeastOnce)
                    self.publishFinished(failed: false, generation: generation)
                } catch {
                    self.publishFinished(failed: true, generation: generation)
                }
            }
        }
    }

    private func publishFinished(failed: Bool, generation finished: UInt64) {
        if failed { statistics.publishFailures += 1 }
        guard finished == generation else { return }
        inFlight -= 1
        pump()
    }
}

extension DeliveryEngine where C == ContinuousClock {
    public init(spool: SharedSpool, client: MQTTClient, topic: String, window: Int = 32, resendAfter: Duration = .seconds(10),
                resendJitter: Double = 0.25) {
        self.init(spool: spool, client: client, topic: topic, window: window, resendAfter: resendAfter, resendJitter: resendJitter,
                  clock: ContinuousClock())
    }
}
