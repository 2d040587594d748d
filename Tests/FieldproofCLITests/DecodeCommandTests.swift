import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import TransparencyLog
import Wire

@Suite struct DecodeCommandTests {
    let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x42, count: 32))

    func telemetryMessage() throws -> [UInt8] {
        let telemetry = Telemetry(serial: "fp-0001", sequence: 7, floor: 6, timestamp: 1_795_561_454_374, clockSynchronised: true,
                                  bootID: [UInt8](repeating: 1, count: 16), millisecondsSinceBoot: 1234,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        return try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: KeyID.of(key.publicKey))
    }

    func file(_ bytes: [UInt8]) throws -> String {
        let url = try TemporaryDirectory.make(prefix: "decode").appendingPathComponent("message.cbor")
        try Data(bytes).write(to: url)
        return url.path
    }

    var keyHex: String { KeyID.hex(Array(key.publicKey.rawRepresentation)) }

    @Test func printsTelemetryAndChecksTheSignature() async throws {
        let result = try await fieldproof(["decode", try file(try telemetryMessage()), "--key", keyHex])
        #expect(result.status == 0)
        #expect(result.output.contains("Telemetry (COSE_Sign1, EdDSA, key id \(KeyID.hex(KeyID.of(key.publicKey))))"))
        #expect(result.output.contains("signature: valid"))
        #expect(result.output.contains("air/temperature = 294.65 K"))
        #expect(result.output.contains("sequence: 7"))
    }

    /// The evidence a device keeps when its log audit raises an alarm
    /// (log-alarm.cose) and the key events of the log, readable as JSON.
    @Test func logReceiptsAndKeyEventsDecode() async throws {
        let receipt = LogReceipt(serial: "fp-0001", checkpoint: "origin\n3\nroot\n\n— origin sig\n", consistencyFrom: 2,
                                 consistency: [MerkleHash.leaf([1])], sequence: 9, messageIndex: 2, messageInclusion: [MerkleHash.leaf([2])],
                                 keyEvent: [0xA0], keyEventIndex: 0, keyEventInclusion: [], time: 1_795_561_460_000)
        let signed = try COSESign1.sign(payload: receipt.encode(), with: key, keyID: KeyID.of(key.publicKey))
        let decoded = try await fieldproof(["decode", try file(signed), "--key", keyHex, "--json"])
        #expect(decoded.status == 0, "\(decoded.output)")
        let object = try JSONSerialization.jsonObject(with: Data(decoded.output.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == "LogReceipt" && object?["signature"] as? String == "valid", "\(decoded.output)")
        #expect(object?["sequence"] as? Int == 9 && object?["consistency_from"] as? Int == 2 && object?["message_index"] as? Int == 2,
                "\(decoded.output)")
        #expect((object?["message_inclusion_proof"] as? [String]) == [MerkleHash.leaf([2]).base64], "\(decoded.output)")
        let event = KeyEvent(kind: .paired, serial: "fp-0001", publicKey: Array(key.publicKey.rawRepresentation), time: 5,
                             sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 10_000)])
        let shown = try await fieldproof(["decode", try file(try event.signed(by: key)), "--key", keyHex])
        #expect(shown.status == 0 && shown.output.contains("KeyEvent") && shown.output.contains("paired") && shown.output.contains("bme280"),
                "\(shown.output)")
    }

    @Test func readsStandardInputForADash() async throws {
        let binary = try #require(ProjectPaths.product("fieldproof"))
        let result = try await ProcessRunner.run(binary.path, ["decode", "-", "--hex", "--key", keyHex], input: KeyID.hex(try telemetryMessage()))
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("signature: valid"))
    }

    /// A c2sp.org/tlog-proof for a message, cosigned by a witness, checked
    /// offline with the log's and the witness's verifier keys.
    @Test func aTransparencyLogProofIsCheckedOfflineWithTheLogAndWitnessKeys() async throws {
        let message = try telemetryMessage()
        var tree = MerkleTree()
        for index in 0..<9 { tree.append(index == 4 ? message : Array("other \(index)".utf8)) }
        let log = try NoteSigner(name: "aggregator.example/fieldproof", key: Curve25519.Signing.PrivateKey())
        let cosigner = try Cosigner(name: "witness.example/w1", key: Curve25519.Signing.PrivateKey())
        let checkpoint = Checkpoint(origin: log.verifier.name, size: 9, root: tree.root(size: 9)!)
        let note = try SignedNote.sign(checkpoint.text, by: [log]) + (try cosigner.cosign(checkpoint, time: 1_795_600_000))
        let proof = TlogProof(index: 4, inclusion: tree.inclusionProof(index: 4, size: 9)!, checkpoint: note)
        let proofFile = try file(Array(proof.text.utf8))
        let entryFile = proofFile + ".entry"
        try Data(message).write(to: URL(fileURLWithPath: entryFile))
        let keys = ["--log-key", log.verifier.verifierKey, "--witness-key", cosigner.verifierKey]

        let checked = try await fieldproof(["decode", "--proof", proofFile, "--entry", entryFile, "--quorum", "1"] + keys)
        #expect(checked.status == 0, "\(checked.output)")
        #expect(checked.output.contains("index 4, included under root") && checked.output.contains("witness.example/w1"), "\(checked.output)")

        let otherEntry = try file(Array("other 3".utf8))
        #expect(try await fieldproof(["decode", "--proof", proofFile, "--entry", otherEntry] + keys).status == 2, "another entry is not at index 4")
        let uncosigned = try file(Array(TlogProof(index: 4, inclusion: proof.inclusion, checkpoint: try SignedNote.sign(checkpoint.text, by: [log])).text.utf8))
        let short = try await fieldproof(["decode", "--proof", uncosigned, "--entry", entryFile, "--quorum", "1"] + keys)
        #expect(short.status == 2 && short.output.contains("0 of the 1 witness cosignatures"), "\(short.output)")
    }

    @Test func aTamperedMessageIsInvalidAndExits2() async throws {
        var bytes = try telemetryMessage()
        bytes[bytes.count - 80] ^= 0x01
        let result = try await fieldproof(["decode", try file(bytes), "--key", keyHex])
        #expect(result.status == 2)
        #expect(result.output.contains("signature: INVALID"))
    }

    @Test func hexInputAndJSONOutput() async throws {
        let hexText = KeyID.hex(try telemetryMessage())
        let url = try TemporaryDirectory.make(prefix: "decode-hex").appendingPathComponent("message.hex")
        try hexText.write(to: url, atomically: true, encoding: .utf8)
        let result = try await fieldproof(["decode", url.path, "--hex", "--json", "--key", keyHex])
        let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        #expect(object?["type"] as? String == "Telemetry")
        #expect(object?["signature"] as? String == "valid")
        #expect(object?["sequence"] as? Int == 7)
    }

    /// A sealed request shows only its clear header; the aggregator's key
    /// announcement is checked with the key it carries (and says that this
    /// proves nothing without the fingerprint).
    @Test func sealedPairRequestsAndKeyAnnouncements() async throws {
        let secret = DeviceSecret(bytes: [UInt8](repeating: 9, count: 32))
        let aggregator = try AggregatorIdentity(seed: [UInt8](repeating: 0x21, count: 32))
        let request = try DevicePairing.makeRequest(serial: "fp-0001", pin: try PIN(validating: "123456"), secret: secret, board: "test",
                                                    sensors: [], time: 1, aggregator: aggregator.publicKeys, kdf: .init(logN: 10, r: 8, p: 1))
        let result = try await fieldproof(["decode", try file(request.message)])
        #expect(result.status == 0 && result.output.contains("PairRequest (sealed, HPKE)") && result.output.contains("serial: fp-0001"), "\(result.output)")
        #expect(!result.output.contains("123456"))
        let announcement = try await fieldproof(["decode", try file(try aggregator.signedAnnouncement())])
        #expect(announcement.output.contains("AggregatorKeys") && announcement.output.contains("signature: valid (checked with the signing key it carries"),
                "\(announcement.output)")
    }

    @Test func garbageSaysWhatIsWrong() async throws {
        let result = try await fieldproof(["decode", try file([0x01, 0x02, 0x03])])
        #expect(result.status != 0)
        #expect(result.output.contains("not a Fieldproof message"))
        #expect(!result.output.contains("Fatal error"))
    }

    /// An inclusion proof as the aggregator serves it, checked offline:
    /// with the right aggregator key it holds (exit 0); with another key or
    /// a message swapped in it does not (exit 2, one line why).
    @Test func checksAnInclusionProofOffline() async throws {
        let aggregator = try Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x43, count: 32))
        let message = try telemetryMessage()
        let others: [[UInt8]] = (1...4).map { Array(SHA256.hash(data: [UInt8($0)])) }
        let leaves = (others + [Array(SHA256.hash(data: message))]).sorted { $0.lexicographicallyPrecedes($1) }.map(EpochTree.leafHash)
        let root = EpochRoot(id: "2026-11-25T17:00Z-1h", start: 1_795_626_000_000, end: 1_795_629_600_000, messageCount: 5,
                             root: EpochTree.root(leaves), time: 1_795_629_900_000)
        let signedRoot = try COSESign1.sign(payload: root.encode(), with: aggregator, keyID: KeyID.of(aggregator.publicKey))
        let index = try #require(leaves.firstIndex(of: EpochTree.leafHash(Array(SHA256.hash(data: message)))))
        let proof = InclusionProof(epoch: signedRoot, message: message, devicePublicKey: Array(key.publicKey.rawRepresentation),
                                   leafIndex: UInt64(index), path: try #require(EpochTree.inclusionProof(index: index, leaves: leaves)))
        let path = try file(proof.encode())
        let aggregatorHex = KeyID.hex(Array(aggregator.publicKey.rawRepresentation))

        let good = try await fieldproof(["decode", "--proof", path, "--key", aggregatorHex])
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("fp-0001 #7") && good.output.contains("2026-11-25T17:00Z-1h: 5 messages"), "\(good.output)")
        #expect(good.output.contains("signed by aggregator key \(KeyID.hex(KeyID.of(aggregator.publicKey))): valid"), "\(good.output)")
        let unchecked = try await fieldproof(["decode", "--proof", path])
        #expect(unchecked.status == 0 && unchecked.output.contains("NOT checked"), "\(unchecked.output)")

        let wrongKey = try await fieldproof(["decode", "--proof", path, "--key", keyHex])
        #expect(wrongKey.status == 2 && wrongKey.output.contains("not signed by aggregator key"), "\(wrongKey.output)")
        // Another message the device really signed, but not one of the epoch's.
        var swapped = proof
        var other = try Telemetry(decoding: try COSESign1(decoding: message).payload)
        other.sequence = 8
        other.floor = 7
        swapped.message = try COSESign1.sign(payload: other.encode(), with: key, keyID: KeyID.of(key.publicKey))
        let moved = try await fieldproof(["decode", "--proof", try file(swapped.encode()), "--key", aggregatorHex, "--json"])
        #expect(moved.status == 2 && moved.output.contains("\"valid\": false") && moved.output.contains("audit path"), "\(moved.output)")
    }
}
