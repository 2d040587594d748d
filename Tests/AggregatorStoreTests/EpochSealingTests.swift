import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Testing
import TestSupport
import Wire

/// Sealed epochs from the SQLite store: deterministic roots, late messages,
/// and inclusion proofs that check offline.
@Suite struct EpochSealingTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000 // an epoch boundary
    let hour: Int64 = 3_600_000
    let device = try! Curve25519.Signing.PrivateKey(rawRepresentation: [UInt8](repeating: 0x31, count: 32))

    func store() async throws -> SQLiteStore {
        let path = try TemporaryDirectory.make(prefix: "epochs").appendingPathComponent("aggregator.sqlite").path
        let store = try SQLiteStore(path: path, calendar: calendar)
        try await store.bindKey(serial: "dev-1", publicKey: device.publicKey, at: t0, logKey: TestAggregator.logKey)
        return store
    }

    /// A real signed Telemetry, as the verifier would hand it to the store.
    func message(_ sequence: UInt64, at time: Int64, receivedAt: Int64? = nil) throws -> StoredMessage {
        let telemetry = Telemetry(serial: "dev-1", sequence: sequence, floor: sequence - 1, timestamp: UInt64(time), clockSynchronised: true,
                                  bootID: [UInt8](repeating: 9, count: 16), millisecondsSinceBoot: sequence * 1000,
                                  readings: [.init(sensor: "air", quantity: "temperature", value: 280 + Double(sequence), unit: "K")],
                                  statuses: [.init(sensor: "air", errorCode: nil)])
        let raw = try COSESign1.sign(payload: telemetry.encode(), with: device, keyID: KeyID.of(device.publicKey))
        return StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(device.publicKey)), receivedAt: receivedAt ?? time + 100)
    }

    @Test func twoAggregatorsSealTheSameRootWhateverTheOrder() async throws {
        let messages = try (1...40).map { try message(UInt64($0), at: t0 + Int64($0) * 60_000) }
        let first = try await store(), second = try await store()
        for message in messages { _ = try await first.commit(message) }
        for message in messages.shuffled() { _ = try await second.commit(message) }
        let sealTime = t0 + hour + 300_000
        #expect(try await first.closableEpochs(now: sealTime - 1).isEmpty, "not before end + grace")
        #expect(try await first.closableEpochs(now: sealTime) == [t0])
        let keyA = Curve25519.Signing.PrivateKey(), keyB = Curve25519.Signing.PrivateKey()
        let a = try #require(try await first.seal(epochStart: t0, key: keyA, now: sealTime))
        let b = try #require(try await second.seal(epochStart: t0, key: keyB, now: sealTime + 5))
        #expect(a.root.root == b.root.root && a.root.messageCount == 40)
        #expect(a.root.root == EpochTree.root(messages.map(\.hash).sorted { $0.lexicographicallyPrecedes($1) }.map(EpochTree.leafHash)))
        #expect(try await first.seal(epochStart: t0, key: keyA, now: sealTime) == nil, "sealed once")
        #expect(try await first.closableEpochs(now: sealTime + hour).isEmpty)
        // The signed root as published verifies with the aggregator's key.
        let envelope = try COSESign1(decoding: a.signed)
        let published = try EpochRoot(decoding: envelope.payload)
        #expect(envelope.isValid(for: keyA.publicKey) && published == a.root)
        #expect(try await first.epochs().map(\.id) == [calendar.id(ofEpochStartingAt: t0)])
    }

    @Test func aLateMessageCountsInTheEpochItArrivedInAndTheSealedRootStays() async throws {
        let store = try await store()
        _ = try await store.commit(try message(1, at: t0 + 1000))
        let key = Curve25519.Signing.PrivateKey()
        let sealed = try #require(try await store.seal(epochStart: t0, key: key, now: t0 + hour + 300_000))
        // Sequence 2 was taken in the sealed hour but arrives two hours later.
        let late = try message(2, at: t0 + 2000, receivedAt: t0 + 2 * hour + 10)
        #expect(try await store.commit(late).stored)
        #expect(try await store.messageHashes(epochStart: t0) == [try message(1, at: t0 + 1000).hash])
        #expect(try await store.messageHashes(epochStart: t0 + 2 * hour) == [late.hash])
        #expect(try await store.epoch(id: sealed.root.id)?.messageCount == 1)
        // Its tally still goes by the time it was taken.
        #expect(try await store.tallies(serial: "dev-1").first { $0.epochStart == t0 }?.count == 2)
    }

    @Test func anInclusionProofFromTheStoreChecksOffline() async throws {
        let store = try await store()
        for sequence in 1...13 { _ = try await store.commit(try message(UInt64(sequence), at: t0 + Int64(sequence) * 1000)) }
        let key = Curve25519.Signing.PrivateKey()
        let sealed = try #require(try await store.seal(epochStart: t0, key: key, now: t0 + hour + 300_000))
        for sequence in [1, 7, 13] as [UInt64] {
            let bytes = try #require(try await store.proof(epoch: sealed.root.id, serial: "dev-1", sequence: sequence))
            let checked = try InclusionProof(decoding: bytes).check(aggregatorKey: key.publicKey)
            #expect(checked.telemetry.sequence == sequence && checked.epoch.id == sealed.root.id)
        }
        #expect(try await store.proof(epoch: sealed.root.id, serial: "dev-1", sequence: 14) == nil)
        #expect(try await store.proof(epoch: "1999-01-01T00:00Z-1h", serial: "dev-1", sequence: 1) == nil)
    }
}
