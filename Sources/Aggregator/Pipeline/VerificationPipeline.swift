import Logging
import LinuxService

/// Broker → verification workers → store → acknowledgement.
///
/// - Never drops: at most `window` messages are in flight (verifying or
///   waiting for their commit); the next is taken only when one finishes,
///   so a slow store slows the intake, the MQTT client's bounded queue
///   fills, its network thread stops reading, and the broker holds the rest
///   (back-pressure, not loss).
/// - `workers` messages are verified at once; accepted ones are committed
///   in groups (`CommitBatcher`), one transaction per group.
/// - Every rejection is counted by reason, and the pipeline keeps running
///   whatever arrives.
/// - After a commit moves a device's highest contiguous sequence, the Ack is
///   published; acks for one device are coalesced (only the newest value is
///   sent once the previous publish finished).
public final class VerificationPipeline<Verifier: MessageVerifier, Committer: MessageCommitter>: Sendable
where Verifier.Accepted == Committer.Accepted {
    public let verifier: Verifier
    public let committer: Committer
    public let acks: any AckPublisher
    public let workers: Int
    public let window: Int
    public let metrics: AggregatorMetrics
    public let logger: Logger
    private let ackCoalescer: AckCoalescer
    private let batcher: CommitBatcher<Committer>
    private let verifying: AsyncSemaphore
    private let arrival = ArrivalOrder()

    /// `window`: messages in flight at most (verifying or committing);
    /// `maximumBatch`: messages per commit at most; `maximumTries`: commits
    /// of one message the store refuses before it is dead-lettered (the
    /// first retry after `retryDelay`, doubling up to 5 s).
    public init(verifier: Verifier, committer: Committer, acks: any AckPublisher, workers: Int, window: Int = 1024, maximumBatch: Int = 512,
                maximumTries: Int = 5, retryDelay: Duration = .milliseconds(50), metrics: AggregatorMetrics, logger: Logger) {
        self.verifier = verifier
        self.committer = committer
        self.acks = acks
        self.workers = max(1, workers)
        self.window = max(self.workers, window)
        self.metrics = metrics
        self.logger = logger
        self.ackCoalescer = AckCoalescer(publisher: acks, logger: logger)
        self.batcher = CommitBatcher(committer: committer, maximumBatch: maximumBatch, maximumTries: maximumTries, firstDelay: retryDelay,
                                     logger: logger)
        self.verifying = AsyncSemaphore(permits: self.workers)
    }

    /// Processes `messages` until the sequence ends or the task is cancelled.
    public func run<Messages: AsyncSequence & Sendable>(_ messages: Messages, now: @escaping @Sendable () -> Int64)
    async where Messages.Element == IncomingMessage {
        await withTaskCancellationHandler {
            await run(messages)
        } onCancel: {
            Task { await self.batcher.stop() }
        }
        await ackCoalescer.flush()
    }

    private func run<Messages: AsyncSequence & Sendable>(_ messages: Messages) async where Messages.Element == IncomingMessage {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            do {
                for try await message in messages {
                    if running >= window {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    metrics.queueDepth.record(running)
                    let ticket = arrival.ticket(topic: message.topic)
                    group.addTask { await self.process(message, ticket: ticket) }
                }
            } catch {
                logger.error("message stream failed", metadata: ["reason": "\(error)"])
            }
            await group.waitForAll()
        }
    }

    func process(_ message: IncomingMessage, ticket: UInt64) async {
        await verifying.acquire()
        let started = ContinuousClock.now
        let outcome = await verifier.verify(message)
        await verifying.release()
        metrics.verifyLatency.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
        // The broker's order per topic from here on (`ArrivalOrder`).
        let topic = message.topic
        await arrival.wait(topic: topic, ticket: ticket)
        switch outcome {
        case let .rejected(serial, reason):
            arrival.pass(topic: topic)
            metrics.rejected(reason: reason)
            await retrying("record a rejection") { try await self.committer.recordRejection(serial: serial, reason: reason) }
        case let .accepted(accepted):
            let committing = ContinuousClock.now
            let arrival = arrival
            let result = await batcher.commit(accepted, queued: { arrival.pass(topic: topic) })
            metrics.commitLatency.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - committing))
            guard let result else { return }
            switch result.outcome {
            case .stored:
                metrics.accepted.increment()
            case .duplicate:
                // The store is the one place that knows a sequence is already
                // there with these bytes (two aggregators can hold copies at
                // once): a redelivery, counted by the store in the same commit
                // and acknowledged again below, not a rejection.
                metrics.redelivered.increment()
            case .conflict:
                // Other bytes under a stored (serial, sequence): a device that
                // reused a sequence, or a second holder of its key. An alarm,
                // never acknowledged as stored.
                logger.error("sequence conflict: other bytes are stored under this sequence",
                             metadata: ["serial": "\(accepted.serial)", "sequence": "\(accepted.sequence)"])
                metrics.rejected(reason: "sequence_conflict")
                await retrying("record a conflict") { try await self.committer.recordRejection(serial: accepted.serial, reason: "sequence_conflict") }
                return
            case .deadLettered:
                metrics.deadLettered.increment()
            }
            // Also after a duplicate: the device re-sent because it lacks the ack.
            // After a dead letter: kept, so settled (else the spool sticks).
            await ackCoalescer.acknowledge(serial: accepted.serial, upTo: result.highestContiguous, redelivery: result.outcome == .duplicate)
        }
    }

    /// Store failures are retried with backoff (the message must not be
    /// lost); gives up only when the task is cancelled.
    private func retrying<T: Sendable>(_ what: String, _ body: @Sendable () async throws -> T) async -> T? {
        await retryingUntilCancelled(failed: { error in
            logger.warning("store failed; retrying", metadata: ["operation": "\(what)", "reason": "\(error)"])
        }, body)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One ack publish in flight per device; newer values replace waiting ones.
/// An Ack already published goes out again when its device re-sends what
/// it covers (the device lacks it: lost with a broker that restarted, or
/// sent while the device was away), at most once per `repeatInterval`.
actor AckCoalescer {
    static let repeatInterval: Duration = .seconds(1)
    private let publisher: any AckPublisher
    private let logger: Logger
    private var published: [String: UInt64] = [:]
    private var pending: [String: UInt64] = [:]
    private var busy: Set<String> = []
    private var tasks: [String: Task<Void, Never>] = [:]
    /// When each device's Ack was last published again, and the devices
    /// whose pending Ack is such a repeat.
    private var repeatedAt: [String: ContinuousClock.Instant] = [:]
    private var repeating: Set<String> = []

    init(publisher: any AckPublisher, logger: Logger) {
        self.publisher = publisher
        self.logger = logger
    }

    func acknowledge(serial: String, upTo sequence: UInt64, redelivery: Bool = false) {
        // Workers finish out of order: a commit that saw an older highest
        // contiguous can report after a newer Ack went out. Acks never go
        // backwards (a test caught 280 published after 284).
        guard sequence > 0 else { return }
        if sequence > max(published[serial] ?? 0, pending[serial] ?? 0) {
            pending[serial] = sequence
        } else if redelivery, sequence == published[serial], !busy.contains(serial) {
            let now = ContinuousClock.now
            if let last = repeatedAt[serial], now - last < Self.repeatInterval { return }
            repeatedAt[serial] = now
            repeating.insert(serial)
            pending[serial] = sequence
        } else {
            return
        }
        guard !busy.contains(serial) else { return }
        busy.insert(serial)
        tasks[serial] = Task { await self.drain(serial) }
    }

    private func drain(_ serial: String) async {
        while let next = pending.removeValue(forKey: serial) {
            let again = repeating.remove(serial) != nil
            if next <= published[serial] ?? 0, !again { continue }
            do {
                try await publisher.publishAck(serial: serial, upTo: next)
                published[serial] = max(published[serial] ?? 0, next)
            } catch {
                logger.warning("could not publish an ack; the device will re-send", metadata: ["serial": "\(serial)", "reason": "\(error)"])
            }
        }
        busy.remove(serial)
        tasks[serial] = nil
    }

    func flush() async {
        while let task = tasks.values.first {
            await task.value
        }
    }

    func lastPublished(serial: String) -> UInt64? { published[serial] }
}
