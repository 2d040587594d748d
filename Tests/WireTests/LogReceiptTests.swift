import Crypto
import Testing
import TransparencyLog
@testable import Wire

/// A device's check of its log receipts (issue 16 item 4): built here on an
/// in-memory log with the aggregator's key, as the aggregator builds them
/// from its store; every way an aggregator can lie is one case.
@Suite struct LogReceiptTests {
    /// A log with other devices' entries, this device's key event and its
    /// messages 1...count, and receipts made from it.
    struct Log {
        let aggregator = Curve25519.Signing.PrivateKey()
        let device = Curve25519.Signing.PrivateKey()
        let origin = "aggregator.example/fieldproof"
        var tree = MerkleTree()
        var messages: [UInt64: (index: Int, bytes: [UInt8])] = [:]
        var keyEvent: (index: Int, bytes: [UInt8]) = (0, [])

        init(messages count: UInt64) throws {
            _ = tree.append(Array("someone else's entry".utf8))
            try bind(device.publicKey, kind: .paired)
            for sequence in 1...count { try add(sequence) }
        }

        mutating func bind(_ key: Curve25519.Signing.PublicKey, kind: KeyEvent.Kind) throws {
            let event = try KeyEvent(kind: kind, serial: "fp-0001", publicKey: Array(key.rawRepresentation), time: 1).signed(by: aggregator)
            keyEvent = (tree.append(event), event)
        }

        mutating func add(_ sequence: UInt64) throws {
            let telemetry = Telemetry(serial: "fp-0001", sequence: sequence, floor: sequence - 1, timestamp: 1_795_557_600_000 + sequence,
                                      clockSynchronised: true, bootID: [UInt8](repeating: 1, count: 16), millisecondsSinceBoot: sequence,
                                      readings: [], statuses: [])
            let bytes = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
            messages[sequence] = (tree.append(bytes), bytes)
        }

        func checkpoint(size: Int, root: MerkleHash? = nil) throws -> String {
            let signer = try NoteSigner(name: origin, key: aggregator)
            return try SignedNote.sign(Checkpoint(origin: origin, size: UInt64(size), root: root ?? tree.root(size: size)!).text, by: [signer])
        }

        /// The receipt for `sequence` at the log's current size, from `held`.
        func receipt(for sequence: UInt64, from held: Int, size: Int? = nil, signedBy key: Curve25519.Signing.PrivateKey? = nil,
                     edit: (inout LogReceipt) -> Void = { _ in }) throws -> [UInt8] {
            let size = size ?? tree.count
            let message = try #require(messages[sequence])
            var receipt = LogReceipt(
                serial: "fp-0001", checkpoint: try checkpoint(size: size), consistencyFrom: UInt64(held),
                consistency: held == 0 ? [] : try #require(tree.consistencyProof(from: held, to: size)), sequence: sequence,
                messageIndex: UInt64(message.index), messageInclusion: try #require(tree.inclusionProof(index: message.index, size: size)),
                keyEvent: keyEvent.bytes, keyEventIndex: UInt64(keyEvent.index),
                keyEventInclusion: try #require(tree.inclusionProof(index: keyEvent.index, size: size)), time: 1_795_557_700_000)
            edit(&receipt)
            let signer = key ?? aggregator
            return try COSESign1.sign(payload: receipt.encode(), with: signer, keyID: KeyID.of(signer.publicKey))
        }

        func check(_ signed: [UInt8], view: DeviceLogView, spooled: Set<UInt64>? = nil, witnesses: [TlogProof.TrustedWitness] = [],
                   quorum: Int = 0) -> LogReceiptVerdict {
            LogReceipt.check(signed, serial: "fp-0001", deviceKey: Array(device.publicKey.rawRepresentation),
                             aggregatorKey: aggregator.publicKey, witnesses: witnesses, quorum: quorum, view: view) { sequence in
                (spooled ?? Set(messages.keys)).contains(sequence) ? messages[sequence]?.bytes : nil
            }
        }
    }

    func proven(_ verdict: LogReceiptVerdict) throws -> DeviceLogView {
        guard case let .proven(view, _) = verdict else {
            Issue.record("expected proven, got \(verdict)")
            throw CancellationError()
        }
        return view
    }

    @Test func aReceiptRoundTripsThroughItsEncoding() throws {
        let log = try Log(messages: 3)
        let envelope = try COSESign1(decoding: try log.receipt(for: 3, from: 2))
        let receipt = try LogReceipt(decoding: envelope.payload)
        #expect(receipt.serial == "fp-0001" && receipt.sequence == 3 && receipt.consistencyFrom == 2)
        #expect(try LogReceipt(decoding: receipt.encode()) == receipt)
        #expect(throws: WireError.self) { try LogReceipt(decoding: Ack(serial: "fp-0001", highestContiguous: 1, time: 1).encode()) }
    }

    @Test func aDeviceFollowsTheLogReceiptByReceipt() throws {
        var log = try Log(messages: 3)
        // First receipt: trust on first use of a checkpoint the pinned key signed.
        let first = try proven(log.check(try log.receipt(for: 3, from: 0), view: DeviceLogView()))
        #expect(first.size == 5 && first.provenSequence == 3 && first.origin == log.origin)
        #expect(first.root == log.tree.root(size: 5) && first.checkpoint != nil)

        for sequence in UInt64(4)...9 { try log.add(sequence) }
        let second = try proven(log.check(try log.receipt(for: 9, from: 5), view: first))
        #expect(second.size == 11 && second.provenSequence == 9)

        // The same checkpoint again proves an older message without moving the view.
        let again = try proven(log.check(try log.receipt(for: 7, from: 11), view: second))
        #expect(again.size == 11 && again.provenSequence == 9)
    }

    @Test func aLogThatForksIsAnAlarmAnOlderCheckpointIsNot() throws {
        var log = try Log(messages: 3)
        let held = try proven(log.check(try log.receipt(for: 3, from: 0), view: DeviceLogView()))

        var forkedView = held
        forkedView.root = MerkleHash.leaf(Array("another history".utf8))
        guard case .failed(let reason) = log.check(try log.receipt(for: 3, from: 5), view: forkedView) else {
            Issue.record("a second root for the same size must fail"); return
        }
        #expect(reason.contains("forked"))

        // An older checkpoint than the one held proves nothing either way.
        var grownView = held
        grownView.size = 6
        guard case .skipped(let older) = log.check(try log.receipt(for: 3, from: 5), view: grownView) else {
            Issue.record("an older checkpoint is skipped"); return
        }
        #expect(older.contains("older"))

        // A history rewritten behind the held checkpoint: no consistency proof leads there.
        try log.add(4)
        var rewritten = held
        rewritten.root = MerkleHash.leaf(Array("rewritten".utf8))
        rewritten.size = 4
        guard case .failed(let notAppendOnly) = log.check(try log.receipt(for: 4, from: 4), view: rewritten) else {
            Issue.record("an inconsistent extension must fail"); return
        }
        #expect(notAppendOnly.contains("append-only"))
    }

    @Test func aDroppedMessageOrAnotherKeyIsAnAlarm() throws {
        var log = try Log(messages: 3)
        // The aggregator claims message 3 sits where message 2 is.
        let misplaced = try log.receipt(for: 3, from: 0) { $0.messageIndex -= 1 }
        guard case .failed(let notLogged) = log.check(misplaced, view: DeviceLogView()) else { Issue.record("must fail"); return }
        #expect(notLogged.contains("message 3 is not in the log"))

        // A key of the aggregator's own bound to this serial.
        try log.bind(Curve25519.Signing.PrivateKey().publicKey, kind: .repaired)
        guard case .failed(let otherKey) = log.check(try log.receipt(for: 3, from: 0), view: DeviceLogView()) else {
            Issue.record("a binding of another key must fail"); return
        }
        #expect(otherKey.contains("another key"))

        // The real binding, but proven at the wrong place.
        let log2 = try Log(messages: 2)
        let wrongPlace = try log2.receipt(for: 2, from: 0) { $0.keyEventIndex += 1 }
        guard case .failed(let unbound) = log2.check(wrongPlace, view: DeviceLogView()) else { Issue.record("must fail"); return }
        #expect(unbound.contains("key event"))
    }

    @Test func whatCannotBeCheckedIsSkippedNotAnAlarm() throws {
        var log = try Log(messages: 3)
        let held = try proven(log.check(try log.receipt(for: 3, from: 0), view: DeviceLogView()))
        try log.add(4)
        // A proof from a size this device does not hold (its newer size had not reached the aggregator).
        guard case .skipped = log.check(try log.receipt(for: 4, from: 2), view: held) else { Issue.record("must be skipped"); return }
        // A message the spool no longer has cannot be checked against its bytes.
        guard case .skipped = log.check(try log.receipt(for: 4, from: 5), view: held, spooled: [1, 2, 3]) else {
            Issue.record("must be skipped"); return
        }
        // Anyone may publish on a topic: a receipt not signed by the pinned key is ignored, however wrong.
        let forged = try log.receipt(for: 4, from: 5, signedBy: Curve25519.Signing.PrivateKey()) { $0.messageIndex = 0 }
        guard case .skipped = log.check(forged, view: held) else { Issue.record("must be skipped"); return }
        // A checkpoint signed by another key, inside a receipt the aggregator signed, is its failure.
        let otherLog = try Log(messages: 4)
        let foreign = try log.receipt(for: 4, from: 5) { $0.checkpoint = try! otherLog.checkpoint(size: 6) }
        guard case .failed = log.check(foreign, view: held) else { Issue.record("must fail"); return }
    }

    @Test func configuredWitnessesMustHaveCosigned() throws {
        let log = try Log(messages: 2)
        let witnessKey = Curve25519.Signing.PrivateKey()
        let witness = try TlogProof.TrustedWitness(verifierKey: try Cosigner(name: "witness.example/w1", key: witnessKey).verifierKey)
        guard case .failed(let reason) = log.check(try log.receipt(for: 2, from: 0), view: DeviceLogView(), witnesses: [witness], quorum: 1) else {
            Issue.record("a checkpoint without the cosignature must fail"); return
        }
        #expect(reason.contains("witness"))
        let size = log.tree.count
        let checkpoint = Checkpoint(origin: log.origin, size: UInt64(size), root: try #require(log.tree.root(size: size)))
        let cosigned = try log.checkpoint(size: size)
            + (try Cosigner(name: "witness.example/w1", key: witnessKey).cosign(checkpoint, time: 1_795_557_600))
        let receipt = try log.receipt(for: 2, from: 0) { $0.checkpoint = cosigned }
        _ = try proven(log.check(receipt, view: DeviceLogView(), witnesses: [witness], quorum: 1))
    }
}
