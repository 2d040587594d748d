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
        let proofs = store.logProofs(size: checkpoint.size).memoized()
        var published = 0
        for (serial, acknowledged) in pending.sorted(by: { $0.key < $1.key }) {
            do {
                guard let receipt = try await receipt(serial: serial, upTo: acknowledged, note: note, proofs: proofs) else { continue }
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
    func receipt(serial: String, upTo acknowledged: UInt64, note: String, proofs: StoredTreeProofs) async throws -> LogReceipt? {
        guard let message = try await store.logNewestMessage(serial: serial, upTo: acknowledged, below: proofs.size),
              let binding = try await store.logNewestKeyEvent(serial: serial, below: proofs.size),
              let event = try? KeyEvent(decoding: try COSESign1(decoding: binding.bytes).payload),
              event.kind == .paired || event.kind == .repaired else { return nil }
        // The size the device said it holds when it sent that message; one
        // above this checkpoint (another aggregator of a shared log got
        // further) waits for a later checkpoint.
        let held = (try? Telemetry(decoding: try COSESign1(decoding: message.entry.bytes).payload))?.logSize ?? 0
        guard let consistency = try await proofs.consistencyProof(from: held),
              let messageInclusion = try await proofs.inclusionProof(index: message.entry.index),
              let keyInclusion = try await proofs.inclusionProof(index: binding.index) else { return nil }
        return LogReceipt(serial: serial, checkpoint: note, consistencyFrom: held, consistency: consistency, sequence: message.sequence,
                          messageIndex: message.entry.index, messageInclusion: messageInclusion, keyEvent: binding.bytes,
                          keyEventIndex: binding.index, keyEventInclusion: keyInclusion, time: WallClock.milliseconds())
    }
}

extension StoredTreeProofs {
    /// The same proofs, each stored hash read once: the receipts of one
    /// checkpoint share the upper levels of every path.
    func memoized() -> StoredTreeProofs {
        let cache = Mutex<[StoredHashKey: MerkleHash]>([:])
        let reader = self.reader
        return StoredTreeProofs(size: size) { level, index in
            let key = StoredHashKey(level: level, index: index)
            if let hash = cache.withLock({ $0[key] }) { return hash }
            let hash = try await reader(level, index)
            cache.withLock { $0[key] = hash }
            return hash
        }
    }
}

private struct StoredHashKey: Hashable {
    let level: Int
    let index: UInt64
}
