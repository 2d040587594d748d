import Crypto
import Logging
import MQTT
import Synchronization
import TransparencyLog
import Wire
import LinuxService

/// Sends each device what it needs to audit its own data in the log
/// (issue 16 item 4): after each checkpoint is published, every device
/// acknowledged since its last receipt gets a signed `LogReceipt`
/// (retained, on `fieldproof/v1/<serial>/log`) with that checkpoint, a
/// consistency proof from the size its newest message says it holds, and
/// inclusion proofs for that message (the newest acknowledged one the
/// checkpoint covers) and for the key event binding its key.
///
/// One receipt per device per checkpoint interval, not one per Ack: the
/// proofs need a published checkpoint, which comes every interval anyway,
/// and the device's spool keeps its records until one proves them.
public actor LogReceiptPublisher {
    private let store: any AggregatorDataStore
    private let client: MQTTClient
    private let key: Curve25519.Signing.PrivateKey
    private let verifier: NoteVerifier
    private let logger: Logger
    /// Devices acknowledged since their last receipt: the highest
    /// acknowledged sequence.
    private var pending: [String: UInt64] = [:]
    /// What each device's last receipt proved (sequence, checkpoint size),
    /// so an unchanged one is not sent again.
    private var sent: [String: (sequence: UInt64, size: UInt64)] = [:]

    public init(store: any AggregatorDataStore, client: MQTTClient, key: Curve25519.Signing.PrivateKey, verifier: NoteVerifier, logger: Logger) {
        self.store = store
        self.client = client
        self.key = key
        self.verifier = verifier
        self.logger = logger
    }

    /// The device's messages up to `sequence` are committed (its Ack went out).
    public func acknowledged(serial: String, upTo sequence: UInt64) {
        pending[serial] = max(pending[serial] ?? 0, sequence)
    }

    /// Sends receipts against `note`, the checkpoint just published;
    /// returns how many went out. A device whose acknowledged message the
    /// checkpoint does not cover yet gets one for its newest covered message
    /// now and stays pending for the next checkpoint.
    @discardableResult
    public func publish(checkpoint note: String) async -> Int {
        guard !pending.isEmpty else { return 0 }
        let checkpoint: Checkpoint
        do { checkpoint = try Checkpoint(text: try SignedNote.open(Array(note.utf8), verifiers: [verifier]).text) } catch {
            logger.error("no log receipts: the checkpoint does not open under the log's key", metadata: ["reason": "\(error)"])
            return 0
        }
        let cache = StoredHashCache(store: store)
        let proofs = StoredTreeProofs(size: checkpoint.size) { level, index in try await cache.hash(level: level, index: index) }
        var published = 0
        for (serial, acknowledged) in pending.sorted(by: { $0.key < $1.key }) {
            do {
                guard let receipt = try await receipt(serial: serial, upTo: acknowledged, note: note, proofs: proofs, cache: cache) else { continue }
                if receipt.sequence >= acknowledged { pending[serial] = nil }
                guard sent[serial].map({ $0 != (receipt.sequence, checkpoint.size) }) ?? true else { continue }
                let signed = try COSESign1.sign(payload: receipt.encode(), with: key, keyID: KeyID.of(key.publicKey))
                try await client.publish(topic: Topics.logReceipt(serial), payload: signed, qos: .atLeastOnce, retain: true)
                sent[serial] = (receipt.sequence, checkpoint.size)
                published += 1
            } catch {
                logger.warning("could not send a log receipt; trying with the next checkpoint", metadata: ["serial": "\(serial)", "reason": "\(error)"])
            }
        }
        return published
    }

    /// The receipt for `serial` in the tree of `proofs.size` entries; nil
    /// when it holds none of the device's messages or no key binding (a
    /// revoked device gets none).
    func receipt(serial: String, upTo acknowledged: UInt64, note: String, proofs: StoredTreeProofs, cache: StoredHashCache) async throws -> LogReceipt? {
        let found = try await store.logReceiptEntries(serial: serial, upTo: acknowledged, below: proofs.size)
        guard let message = found.message, let binding = found.keyEvent,
              let event = try? KeyEvent(decoding: try COSESign1(decoding: binding.bytes).payload),
              event.kind == .paired || event.kind == .repaired else { return nil }
        // The size the device said it holds when it sent that message; one
        // above this checkpoint (another aggregator of a shared log got
        // further) waits for a later checkpoint.
        let held = (try? Telemetry(decoding: try COSESign1(decoding: message.entry.bytes).payload))?.logSize ?? 0
        let prove = { (proofs: StoredTreeProofs) async throws -> (consistency: [MerkleHash], message: [MerkleHash], key: [MerkleHash])? in
            guard let consistency = try await proofs.consistencyProof(from: held),
                  let message = try await proofs.inclusionProof(index: message.entry.index),
                  let key = try await proofs.inclusionProof(index: binding.index) else { return nil }
            return (consistency, message, key)
        }
        // The three proofs' stored hashes in one query; read one by one, they
        // made a receipt cost 11 Acks of CPU (fieldproof-bench receipt).
        try await cache.fetch(try await proofs.positions { _ = try await prove($0) })
        guard let (consistency, messageInclusion, keyInclusion) = try await prove(proofs) else { return nil }
        return LogReceipt(serial: serial, checkpoint: note, consistencyFrom: held, consistency: consistency, sequence: message.sequence,
                          messageIndex: message.entry.index, messageInclusion: messageInclusion, keyEvent: binding.bytes,
                          keyEventIndex: binding.index, keyEventInclusion: keyInclusion, time: WallClock.milliseconds())
    }
}

/// The stored hashes read for the receipts of one checkpoint: fetched a
/// receipt's worth per query, and the upper levels every path shares once.
final class StoredHashCache: Sendable {
    private let store: any AggregatorDataStore
    private let hashes = Mutex<[StoredPosition: MerkleHash]>([:])

    init(store: any AggregatorDataStore) {
        self.store = store
    }

    /// Reads those of `positions` not read yet, in one query.
    func fetch(_ positions: Set<StoredPosition>) async throws {
        let missing = hashes.withLock { held in positions.filter { held[$0] == nil } }
        guard !missing.isEmpty else { return }
        let found = try await store.logHashes(at: missing)
        hashes.withLock { $0.merge(found) { old, _ in old } }
    }

    func hash(level: Int, index: UInt64) async throws -> MerkleHash {
        let position = StoredPosition(level: level, index: index)
        if let hash = hashes.withLock({ $0[position] }) { return hash }
        try await fetch([position])
        guard let hash = hashes.withLock({ $0[position] }) else { throw LogStoreError.missingHash(level: level, index: index) }
        return hash
    }
}
