import Aggregator
import AggregatorStore
import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import TransparencyLog
import Wire

/// Every change to a device's keys is a log entry, from both stores: paired
/// (through the real pairing exchange), re-paired, revoked, reinstated,
/// each signed by the aggregator, in the order the changes were made and
/// interleaved with the messages stored between them; binding the key that
/// already speaks for a device logs nothing.
@Suite(.serialized) struct KeyEventLogTests {
    typealias Kind = StoreKind

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let aggregator = TestAggregator.identity
    static let fastKDF = PairRequest.KDFParameters(logN: 10, r: 8, p: 1)

    func message(_ sequence: UInt64, key: Curve25519.Signing.PrivateKey) throws -> StoredMessage {
        try .signed(serial: "dev-k", sequence: sequence, key: key, at: t0 + Int64(sequence), bootID: 9)
    }

    /// The log's entries: key events decoded (their signature checked),
    /// messages as `nil`.
    func logged(_ store: any AggregatorDataStore) async throws -> [KeyEvent?] {
        let size = try await store.logSize()
        return try await store.logEntries(from: 0, count: Int(size)).map { entry in
            let signed = try COSESign1(decoding: entry)
            guard (try? KeyEvent(decoding: signed.payload)) != nil else { return nil }
            #expect(signed.isValid(for: aggregator.signingKey.publicKey), "a key event is signed with the aggregator's key")
            return try KeyEvent(decoding: signed.payload)
        }
    }

    @Test(arguments: Kind.allCases)
    func pairingRepairingRevocationAndReinstatementAreLoggedInOrder(kind: Kind) async throws {
        let opened = try await kind.open(calendar: calendar, prefix: "keyevents")
        let store = opened.store
        defer { opened.stop() }
        let (enrollment, pin) = try Enrollment.create(serial: "dev-k", expiresAt: UInt64(t0 + 3_600_000), maximumAttempts: 3, kdf: Self.fastKDF)
        try await store.saveEnrollment(enrollment, at: t0)
        let request = try DevicePairing.makeRequest(serial: "dev-k", pin: pin, secret: DeviceSecret(bytes: [UInt8](repeating: 5, count: 32)),
                                                    board: "b", sensors: [], time: UInt64(t0), aggregator: aggregator.publicKeys, kdf: Self.fastKDF)
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        guard case .accepted = try await judge.judge(bytes: request.message, topic: Topics.pairRequest("dev-k"), now: t0).get().0 else {
            Issue.record("pairing was refused"); return
        }
        let first = request.identityKey
        _ = try await store.commit(try message(1, key: first))
        // The same key bound again: nothing changes, nothing is logged.
        try await store.bindKey(serial: "dev-k", publicKey: first.publicKey, at: t0 + 2, logKey: aggregator.signingKey)
        let second = Curve25519.Signing.PrivateKey()
        try await store.bindKey(serial: "dev-k", publicKey: second.publicKey, at: t0 + 3, logKey: aggregator.signingKey)
        _ = try await store.commit(try message(2, key: second))
        #expect(try await store.revoke(serial: "dev-k", at: t0 + 4, logKey: aggregator.signingKey))
        #expect(try await store.revoke(serial: "dev-k", at: t0 + 5, logKey: aggregator.signingKey), "a known serial, already revoked")
        #expect(try await store.reinstate(serial: "dev-k", at: t0 + 6, logKey: aggregator.signingKey))
        #expect(try await !store.reinstate(serial: "dev-k", at: t0 + 7, logKey: aggregator.signingKey), "not revoked: nothing to log")
        #expect(try await !store.revoke(serial: "nobody", at: t0 + 8, logKey: aggregator.signingKey))

        let entries = try await logged(store)
        let raw = { (key: Curve25519.Signing.PrivateKey) in Array(key.publicKey.rawRepresentation) }
        #expect(entries == [
            // Paired through the exchange: with the sensors it declared (none).
            KeyEvent(kind: .paired, serial: "dev-k", publicKey: raw(first), time: UInt64(t0), sensors: []),
            nil,
            KeyEvent(kind: .repaired, serial: "dev-k", publicKey: raw(second), time: UInt64(t0 + 3)),
            nil,
            KeyEvent(kind: .revoked, serial: "dev-k", publicKey: raw(second), time: UInt64(t0 + 4)),
            KeyEvent(kind: .reinstated, serial: "dev-k", publicKey: nil, time: UInt64(t0 + 6)),
        ])
        // The root is RFC 6962's over the entries as served.
        var tree = MerkleTree()
        for entry in try await store.logEntries(from: 0, count: 6) { tree.append(entry) }
        #expect(try await store.logHead() == LogHead(size: 6, root: try #require(tree.root(size: 6))))
        // A message is still found where it was logged.
        #expect(try await store.logIndex(serial: "dev-k", sequence: 2) == 3)
    }

    @Test func aKeyEventDecodesOnlyWhenWellFormed() throws {
        let key = [UInt8](repeating: 1, count: 32)
        let event = KeyEvent(kind: .repaired, serial: "s", publicKey: key, time: 5)
        #expect(try KeyEvent(decoding: event.encode()) == event)
        #expect(throws: WireError.self) { try KeyEvent(decoding: KeyEvent(kind: .paired, serial: "s", publicKey: nil, time: 5).encode()) }
        #expect(throws: WireError.self) { try KeyEvent(decoding: KeyEvent(kind: .reinstated, serial: "s", publicKey: key, time: 5).encode()) }
        #expect(throws: WireError.self) { try KeyEvent(decoding: Ack(serial: "s", highestContiguous: 1, time: 5).encode()) }
        var unknownKind = event.encode()
        let at = try #require(unknownKind.firstIndex(of: UInt8(ascii: "r")))
        unknownKind[at] = UInt8(ascii: "x")
        #expect(throws: WireError.self) { try KeyEvent(decoding: unknownKind) }
    }
}
