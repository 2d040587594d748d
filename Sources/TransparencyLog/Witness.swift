import Synchronization

/// The decisions of a C2SP witness (c2sp.org/tlog-witness, `add-checkpoint`),
/// independent of HTTP and storage: for each log it knows (origin and
/// verifier keys) it holds the latest checkpoint it cosigned, and cosigns a
/// new one only with a valid consistency proof from exactly that size.
/// Checking and recording happen under one lock, so two requests cannot
/// roll the recorded size back (the race the spec warns of); `persist` is
/// called before an answer leaves, and a failure to persist is no
/// cosignature.
public final class Witness: Sendable {
    public struct Recorded: Codable, Equatable, Sendable {
        public var size: UInt64
        public var root: String

        public init(size: UInt64, root: String) {
            self.size = size
            self.root = root
        }
    }

    public struct Response: Equatable, Sendable {
        public var status: Int
        public var contentType: String
        public var body: String
    }

    /// At most 63 consistency proof lines (the spec's bound), and a body no
    /// larger than a checkpoint with its signatures needs.
    public static let maximumBodyBytes = SignedNote.maximumBytes + 64 * 46 + 32

    private let cosigner: Cosigner
    private let logs: [String: [NoteVerifier]]
    private let state: Mutex<[String: Recorded]>
    private let persist: @Sendable ([String: Recorded]) throws -> Void

    public init(cosigner: Cosigner, logs: [String: [NoteVerifier]], recorded: [String: Recorded],
                persist: @escaping @Sendable ([String: Recorded]) throws -> Void) {
        self.cosigner = cosigner
        self.logs = logs
        state = Mutex(recorded)
        self.persist = persist
    }

    public var recorded: [String: Recorded] { state.withLock { $0 } }

    /// The size a 409 answer (`text/x.tlog.size`) names: a decimal without
    /// leading zeros and a newline; nil for anything else.
    public static func heldSize(inConflictAnswer body: [UInt8]) -> UInt64? {
        guard body.last == 0x0A, body.count <= 21, let digits = String(validating: body.dropLast(), as: UTF8.self) else { return nil }
        return NoteEncoding.decimal(Substring(digits))
    }

    /// Answers an `add-checkpoint` request body at `time` (POSIX seconds).
    public func addCheckpoint(_ body: [UInt8], time: UInt64) -> Response {
        guard body.count <= Self.maximumBodyBytes else { return Self.answer(400, "request too large\n") }
        // "old N\n", up to 63 proof lines, an empty line, then the signed checkpoint.
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var blank: Int?
        for index in body.indices where body[index] == 0x0A {
            if index == start { blank = index; break }
            lines.append(body[start..<index])
            start = index + 1
            if lines.count > 64 { return Self.answer(400, "more than 63 consistency proof lines\n") }
        }
        guard let blank, let first = lines.first else { return Self.answer(400, "expected `old <size>`, proof lines and an empty line before the checkpoint\n") }
        let oldText = String(decoding: first, as: UTF8.self)
        guard oldText.hasPrefix("old "), let old = NoteEncoding.decimal(oldText.dropFirst(4)) else {
            return Self.answer(400, "the first line must be `old <size>`\n")
        }
        var proof: [MerkleHash] = []
        for line in lines.dropFirst() {
            guard let hash = MerkleHash(base64: Substring(String(decoding: line, as: UTF8.self))) else {
                return Self.answer(400, "a consistency proof line is not a base64 hash\n")
            }
            proof.append(hash)
        }
        let note = Array(body[(blank + 1)...])
        // The origin decides which keys to trust: read it before verifying.
        let origin = String(decoding: note.prefix { $0 != 0x0A }, as: UTF8.self)
        guard let verifiers = logs[origin] else { return Self.answer(404, "unknown log \(origin)\n") }
        let text: String
        do {
            text = try SignedNote.open(note, verifiers: verifiers).text
        } catch {
            if case .malformed = error { return Self.answer(400, "\(error)\n") }
            return Self.answer(403, "\(error)\n")
        }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: text) } catch { return Self.answer(400, "\(error)\n") }
        guard checkpoint.origin == origin else { return Self.answer(400, "the origin line is not the log's\n") }
        guard old <= checkpoint.size else { return Self.answer(400, "old size \(old) is above the checkpoint's \(checkpoint.size)\n") }
        if checkpoint.size == 0, checkpoint.root != .emptyTree { return Self.answer(422, "an empty tree's root is the hash of nothing\n") }

        return state.withLock { recorded -> Response in
            let held = recorded[origin]
            guard old == (held?.size ?? 0) else {
                return Response(status: 409, contentType: "text/x.tlog.size", body: "\(held?.size ?? 0)\n")
            }
            if let held, let heldRoot = MerkleHash(base64: Substring(held.root)) {
                let consistent = old == checkpoint.size
                    ? proof.isEmpty && heldRoot == checkpoint.root
                    : MerkleProof.verifyConsistency(oldSize: old, oldRoot: heldRoot, newSize: checkpoint.size, newRoot: checkpoint.root, proof: proof)
                guard consistent else { return Self.answer(422, "not consistent with the checkpoint of size \(held.size) cosigned before\n") }
            } else if !proof.isEmpty {
                return Self.answer(422, "from size 0 the consistency proof is empty\n")
            }
            let line: String
            do { line = try cosigner.cosign(checkpoint, time: time) } catch { return Self.answer(500, "\(error)\n") }
            var next = recorded
            next[origin] = Recorded(size: checkpoint.size, root: checkpoint.root.base64)
            do { try persist(next) } catch { return Self.answer(500, "cannot record the checkpoint: \(error)\n") }
            recorded = next
            return Response(status: 200, contentType: "text/plain; charset=utf-8", body: line)
        }
    }

    private static func answer(_ status: Int, _ body: String) -> Response {
        Response(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }
}
