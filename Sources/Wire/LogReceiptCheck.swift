import Crypto
import TransparencyLog

/// What a device knows of the transparency log: the newest checkpoint it
/// has verified, and the newest of its own sequences it has seen proven in
/// the log.
public struct DeviceLogView: Equatable, Sendable {
    /// The log's name (the checkpoint's origin line), fixed by the first
    /// checkpoint the device verified.
    public var origin: String?
    public var size: UInt64
    public var root: MerkleHash
    /// The verified checkpoint note, as received.
    public var checkpoint: String?
    public var provenSequence: UInt64

    public init(origin: String? = nil, size: UInt64 = 0, root: MerkleHash = .emptyTree, checkpoint: String? = nil, provenSequence: UInt64 = 0) {
        self.origin = origin
        self.size = size
        self.root = root
        self.checkpoint = checkpoint
        self.provenSequence = provenSequence
    }
}

/// A receipt's verdict on the device.
public enum LogReceiptVerdict: Equatable, Sendable {
    /// Everything verified: the view to keep, and the sequence proven.
    case proven(DeviceLogView, sequence: UInt64)
    /// Not checkable now, with no sign of misbehaviour: a checkpoint older
    /// than the one held, a consistency proof from a size the device
    /// no longer holds, a message the spool no longer has, or a receipt not
    /// signed by the pinned aggregator key (anyone may publish on a topic).
    case skipped(String)
    /// The aggregator signed a receipt whose proofs fail, or a checkpoint
    /// that forks the log the device holds: an alarm.
    case failed(String)
}

extension LogReceipt {
    /// Checks a signed receipt as the device `serial` (identity key
    /// `deviceKey`), trusting only the aggregator key it pinned and, with
    /// `quorum` above 0, that many of `witnesses`. `message` returns the
    /// device's own signed bytes of a sequence it still spools: its
    /// inclusion is checked against those bytes, not against anything the
    /// receipt says.
    public static func check(_ signed: [UInt8], serial: String, deviceKey: [UInt8], aggregatorKey: Curve25519.Signing.PublicKey,
                             witnesses: [TlogProof.TrustedWitness] = [], quorum: Int = 0, view: DeviceLogView,
                             message: (UInt64) -> [UInt8]?) -> LogReceiptVerdict {
        guard let envelope = try? COSESign1(decoding: signed), envelope.keyID == KeyID.of(aggregatorKey),
              envelope.isValid(for: aggregatorKey) else {
            return .skipped("a log receipt not signed by the pinned aggregator key")
        }
        let receipt: LogReceipt
        do { receipt = try LogReceipt(decoding: envelope.payload) } catch {
            return .failed("the aggregator signed a log receipt that does not decode: \(error)")
        }
        guard receipt.serial == serial else { return .skipped("a log receipt for \(receipt.serial)") }
        return receipt.check(deviceKey: deviceKey, aggregatorKey: aggregatorKey, witnesses: witnesses, quorum: quorum, view: view,
                             message: message)
    }

    func check(deviceKey: [UInt8], aggregatorKey: Curve25519.Signing.PublicKey, witnesses: [TlogProof.TrustedWitness], quorum: Int,
               view: DeviceLogView, message: (UInt64) -> [UInt8]?) -> LogReceiptVerdict {
        // The log key's name is the checkpoint's origin (fixed once held);
        // the key is the pinned one, so the unsigned name gains nothing.
        let origin = view.origin ?? String(checkpoint.prefix { $0 != "\n" })
        let checkpoint: Checkpoint
        do {
            let verifier = try NoteVerifier(name: origin, publicKey: aggregatorKey)
            checkpoint = try TlogProof.verifyCheckpoint(Array(self.checkpoint.utf8), origin: origin, log: [verifier], witnesses: witnesses,
                                                        quorum: quorum).checkpoint
        } catch {
            return .failed("the receipt's checkpoint does not verify: \(error)")
        }

        // Append-only: the new checkpoint must extend the one held. A proof
        // from any other size is not linked: the device's newer messages
        // tell the aggregator its size, and a later receipt will be.
        // An older checkpoint is no evidence: receipts cross on the way, and
        // aggregators sharing one log each send what they last published.
        var view = view
        if checkpoint.size < view.size {
            return .skipped("a checkpoint of \(checkpoint.size) entries, older than the one of \(view.size) held")
        }
        if checkpoint.size == view.size, checkpoint.root != view.root {
            return .failed("the log forked: two roots for \(checkpoint.size) entries")
        }
        guard consistencyFrom == view.size else {
            return .skipped("the consistency proof is from \(consistencyFrom) entries; this device holds \(view.size)")
        }
        guard MerkleProof.verifyConsistency(oldSize: view.size, oldRoot: view.root, newSize: checkpoint.size, newRoot: checkpoint.root,
                                            proof: consistency) else {
            return .failed("the log is not append-only: no consistency from \(view.size) to \(checkpoint.size) entries")
        }

        // The key event that binds this device's key is in the log.
        guard let keyEnvelope = try? COSESign1(decoding: keyEvent), keyEnvelope.isValid(for: aggregatorKey),
              let event = try? KeyEvent(decoding: keyEnvelope.payload) else {
            return .failed("the receipt's key event is not a KeyEvent signed by the aggregator")
        }
        guard event.serial == serial, event.kind == .paired || event.kind == .repaired, event.publicKey == deviceKey else {
            return .failed("the log binds \(event.serial) (\(event.kind.rawValue)) to another key than this device's")
        }
        guard MerkleProof.verifyInclusion(leaf: .leaf(keyEvent), index: keyEventIndex, size: checkpoint.size, proof: keyEventInclusion,
                                          root: checkpoint.root) else {
            return .failed("the key event binding this device's key is not in the log at \(keyEventIndex)")
        }

        // The device's own bytes of the message are in the log.
        guard let bytes = message(sequence) else {
            return .skipped("message \(sequence) is no longer in the spool")
        }
        guard MerkleProof.verifyInclusion(leaf: .leaf(bytes), index: messageIndex, size: checkpoint.size, proof: messageInclusion,
                                          root: checkpoint.root) else {
            return .failed("message \(sequence) is not in the log at \(messageIndex)")
        }

        view.origin = origin
        if checkpoint.size > view.size {
            view.size = checkpoint.size
            view.root = checkpoint.root
            view.checkpoint = self.checkpoint
        }
        view.provenSequence = max(view.provenSequence, sequence)
        return .proven(view, sequence: sequence)
    }
}
