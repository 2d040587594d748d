import LinuxService
import Logging
import TransparencyLog

/// Gathers witness cosignatures on the log's checkpoints
/// (c2sp.org/tlog-witness): for each new checkpoint it POSTs add-checkpoint
/// to every witness at once, each with a consistency proof from the size
/// that witness holds, keeps only cosignatures that verify under the
/// witness's configured key, and once `quorum` of them are in, keeps the
/// checkpoint with them appended (a signed note the log's and the
/// witnesses' keys open) as the one to serve and publish.
///
/// A witness that is down or refuses is logged, counted in the metrics and
/// asked again on the next `collect`; it never holds up the others, and
/// cosignatures already had for the checkpoint are kept across calls.
public actor WitnessCollector {
    /// Room for many cosignature lines; a larger answer is refused.
    public static let maximumAnswerBytes = 16 * 1024

    /// A consistency proof from `old` to `new` entries of the log; nil when
    /// the log cannot make one (`old` above `new`).
    public typealias Proofs = @Sendable (_ old: UInt64, _ new: UInt64) async throws -> [MerkleHash]?

    public enum SetupError: Error, Equatable, CustomStringConvertible {
        case badKey(url: String, NoteError)
        case quorum(Int, witnesses: Int)

        public var description: String {
            switch self {
            case let .badKey(url, error): return "witness \(url): \(error)"
            case let .quorum(quorum, count): return "a quorum of \(quorum) cannot be had from \(count) witness(es)"
            }
        }
    }

    struct Member: Sendable {
        let endpoint: WitnessEndpoint
        let trusted: TlogProof.TrustedWitness
    }

    public nonisolated let quorum: Int
    let members: [Member]
    let timeout: Duration
    private let log: NoteVerifier
    let transport: any WitnessTransport
    let proofs: Proofs
    private let metrics: AggregatorMetrics
    private let logger: Logger
    private let now: @Sendable () -> Int64

    private var statuses: [WitnessStatus]
    /// The size each witness holds for this log as far as we know: from its
    /// last cosignature or 409 answer (nil: never heard; asked with 0).
    private var held: [UInt64?]
    /// The checkpoint being collected, and the cosignature line of each
    /// witness (by index) that cosigned it.
    private var pending: (note: String, checkpoint: Checkpoint, lines: [Int: String])?
    private var cosigned: (note: String, size: UInt64, at: Int64)?

    public init(witnesses: [WitnessEndpoint], quorum: Int, timeout: Duration, log: NoteVerifier, transport: any WitnessTransport,
                proofs: @escaping Proofs, metrics: AggregatorMetrics, logger: Logger,
                now: @escaping @Sendable () -> Int64 = { Int64(WallClock.milliseconds()) }) throws(SetupError) {
        var members: [Member] = []
        for endpoint in witnesses {
            do { members.append(Member(endpoint: endpoint, trusted: try TlogProof.TrustedWitness(verifierKey: endpoint.key))) } catch {
                throw .badKey(url: endpoint.url, error)
            }
        }
        guard !members.isEmpty, (1...members.count).contains(quorum) else { throw .quorum(quorum, witnesses: members.count) }
        self.members = members
        self.quorum = quorum
        self.timeout = timeout
        self.log = log
        self.transport = transport
        self.proofs = proofs
        self.metrics = metrics
        self.logger = logger
        self.now = now
        statuses = members.map { WitnessStatus(url: $0.endpoint.url, name: $0.trusted.name) }
        held = Array(repeating: nil, count: members.count)
        for member in members {
            for outcome in AggregatorMetrics.witnessOutcomes { _ = metrics.witnessCounter(url: member.endpoint.url, outcome: outcome) }
        }
    }

    /// The newest checkpoint that reached the quorum, with its cosignatures.
    public var cosignedNote: String? { cosigned?.note }

    /// Each witness's state and the newest cosigned size, for the API.
    public func status(origin: String, size: UInt64) -> TransparencyLogStatus {
        TransparencyLogStatus(origin: origin, size: size, quorum: quorum, cosignedSize: cosigned?.size, cosignedAt: cosigned?.at,
                              witnesses: statuses)
    }

    /// Asks the witnesses that have not cosigned `note` (the log's newest
    /// checkpoint, signed by the log key) yet to cosign it; returns the
    /// newest cosigned checkpoint, which is `note` with cosignatures once
    /// the quorum is reached, or an older one until then.
    @discardableResult
    public func collect(_ note: String) async -> String? {
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: try SignedNote.open(Array(note.utf8), verifiers: [log]).text) } catch {
            logger.error("not collecting cosignatures: the checkpoint does not open under the log's key", metadata: ["reason": "\(error)"])
            return cosigned?.note
        }
        // A checkpoint older than one already cosigned (another aggregator
        // of a shared log got further) is not collected again.
        if let cosigned, checkpoint.size < cosigned.size { return cosigned.note }
        if pending?.note != note { pending = (note, checkpoint, [:]) }
        let asked = members.indices.filter { pending?.lines[$0] == nil }
        guard !asked.isEmpty else { return cosigned?.note }

        let results = await withTaskGroup(of: (Int, Exchange.Result).self) { group in
            for index in asked {
                let exchange = Exchange(member: members[index], held: held[index], transport: transport, proofs: proofs, timeout: timeout)
                group.addTask { (index, await exchange.run(note: note, checkpoint: checkpoint)) }
            }
            var results: [(Int, Exchange.Result)] = []
            for await result in group { results.append(result) }
            return results
        }
        let time = now()
        for (index, result) in results { record(result, of: index, checkpoint: checkpoint, note: note, at: time) }

        // (An await above lets another call in: `pending` may be another checkpoint's now.)
        if let pending, pending.note == note, pending.lines.count >= quorum, checkpoint.size >= cosigned?.size ?? 0 {
            let withCosignatures = note + pending.lines.sorted { $0.key < $1.key }.map(\.value).joined()
            if withCosignatures != cosigned?.note {
                cosigned = (withCosignatures, checkpoint.size, time)
                metrics.cosignedSize.record(Int64(clamping: checkpoint.size))
            }
        }
        return cosigned?.note
    }

    private func record(_ result: Exchange.Result, of index: Int, checkpoint: Checkpoint, note: String, at time: Int64) {
        let url = members[index].endpoint.url
        statuses[index].lastAttemptAt = time
        if let size = result.held { held[index] = size }
        switch result.outcome {
        case let .cosigned(line):
            if pending?.note == note { pending?.lines[index] = line }
            statuses[index].cosignedSize = checkpoint.size
            statuses[index].cosignedAt = time
            statuses[index].lastError = nil
            metrics.witnessCounter(url: url, outcome: "cosigned").increment()
        case let .failed(kind, reason):
            metrics.witnessCounter(url: url, outcome: kind.rawValue).increment()
            // Warn when a witness starts failing or fails differently; the
            // same failure every interval is repeated only at debug level.
            let metadata: Logger.Metadata = ["witness": "\(url)", "size": "\(checkpoint.size)", "reason": "\(reason)"]
            if statuses[index].lastError != reason {
                logger.warning("witness did not cosign the checkpoint", metadata: metadata)
            } else {
                logger.debug("witness did not cosign the checkpoint", metadata: metadata)
            }
            statuses[index].lastError = reason
            statuses[index].lastErrorAt = time
        }
    }
}
