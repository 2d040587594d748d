/// A message as it came off the broker.
public struct IncomingMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    /// Unix ms when the aggregator received it.
    public var receivedAt: Int64

    public init(topic: String, payload: [UInt8], receivedAt: Int64) {
        self.topic = topic
        self.payload = payload
        self.receivedAt = receivedAt
    }
}

/// What the pipeline needs to know of an accepted message.
public protocol AcceptedMessageProtocol: Sendable {
    var serial: String { get }
    var sequence: UInt64 { get }
}

public enum VerificationOutcome<Accepted: AcceptedMessageProtocol>: Sendable {
    case accepted(Accepted)
    /// `serial` when the message named one (for per-device counts);
    /// `reason` is one of the closed set (`AggregatorMetrics.rejectionReasons`).
    case rejected(serial: String?, reason: String)
}

/// Checks one message (decode, signature, key registry, topic, freshness).
/// Runs on several workers at once.
public protocol MessageVerifier: Sendable {
    associatedtype Accepted: AcceptedMessageProtocol
    func verify(_ message: IncomingMessage) async -> VerificationOutcome<Accepted>
}

public struct CommitResult: Equatable, Sendable {
    public enum Outcome: Equatable, Sendable {
        /// Stored now.
        case stored
        /// The same bytes were stored already (or the sequence was dead-lettered
        /// already); nothing changed. Acknowledged: the device re-sent.
        case duplicate
        /// Other bytes are stored under this (serial, sequence): nothing
        /// changed, not acknowledged, counted as `sequence_conflict`.
        case conflict
        /// The store could not commit it after `CommitBatcher.maximumTries`;
        /// it was kept in the dead-letter table and counts as settled.
        case deadLettered
    }

    public var outcome: Outcome
    /// The device's highest contiguous committed sequence after this commit.
    public var highestContiguous: UInt64

    /// True when the message was stored now.
    public var stored: Bool { outcome == .stored }

    public init(_ outcome: Outcome, highestContiguous: UInt64) {
        self.outcome = outcome
        self.highestContiguous = highestContiguous
    }

    /// `stored` false: a duplicate.
    public init(stored: Bool, highestContiguous: UInt64) {
        self.init(stored ? .stored : .duplicate, highestContiguous: highestContiguous)
    }
}

/// Stores accepted messages (message, uniqueness and tallies in one
/// transaction) and counts rejections.
public protocol MessageCommitter: Sendable {
    associatedtype Accepted: AcceptedMessageProtocol
    func commit(_ message: Accepted) async throws -> CommitResult
    /// Several messages in one transaction (group commit: one disk flush for
    /// all of them); all are stored or none. Results in `messages`' order.
    func commit(batch messages: [Accepted]) async throws -> [CommitResult]
    /// How many batches may commit at once (1 for a single-writer store).
    var parallelCommits: Int { get }
    func recordRejection(serial: String?, reason: String) async throws
    /// Keeps a message the store could not commit after several tries (its
    /// bytes, the store's error, how many tries) and settles its sequence;
    /// returns `.deadLettered` with the device's highest contiguous, or nil
    /// when this committer keeps no dead letters (it is then retried on).
    func deadLetter(_ message: Accepted, error: String, tries: Int, at time: Int64) async throws -> CommitResult?
}

extension MessageCommitter {
    /// For stores without transactions across messages: one at a time.
    public func commit(batch messages: [Accepted]) async throws -> [CommitResult] {
        var results: [CommitResult] = []
        results.reserveCapacity(messages.count)
        for message in messages { results.append(try await commit(message)) }
        return results
    }

    public var parallelCommits: Int { 1 }

    /// No dead-letter table: a message the store refuses is retried on.
    public func deadLetter(_ message: Accepted, error: String, tries: Int, at time: Int64) async throws -> CommitResult? { nil }
}

/// Publishes the signed Ack (retained) for a device.
public protocol AckPublisher: Sendable {
    func publishAck(serial: String, upTo sequence: UInt64) async throws
}
