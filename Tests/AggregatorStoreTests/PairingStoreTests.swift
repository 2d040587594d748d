import Aggregator
import AggregatorStore
import Crypto
import Foundation
import GRDB
import Identity
import Testing
import TestSupport
import Wire

/// Pairing against both real stores, with the test standing where a
/// hostile broker stands: every message between device and aggregator
/// passes through `HostileBroker`, which records, drops, replays, alters
/// and injects. What must hold: no PIN guess can be checked offline, no
/// other key gets bound, the device pins no other aggregator key, parallel
/// guesses get no more tries than the limit, revocation holds, and a
/// reflashed device learns where its sequence must continue.
@Suite(.serialized) struct PairingStoreTests {
    typealias Kind = StoreKind

    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))
    let t0: Int64 = 1_795_557_600_000
    let aggregator = try! AggregatorIdentity(seed: [UInt8](repeating: 0x62, count: 32))
    static let fastKDF = PairRequest.KDFParameters(logN: 10, r: 8, p: 1)

    func open(_ kind: Kind) async throws -> (any AggregatorDataStore, String?, () -> Void) {
        try await kind.open(calendar: calendar, prefix: "pairing")
    }

    func enroll(_ store: any AggregatorDataStore, _ serial: String, attempts: Int = 5) async throws -> PIN {
        let (enrollment, pin) = try Enrollment.create(serial: serial, expiresAt: UInt64(t0 + 3_600_000), maximumAttempts: attempts, kdf: Self.fastKDF)
        try await store.saveEnrollment(enrollment, at: t0)
        return pin
    }

    func device(_ serial: String, pin: PIN, secret: UInt8 = 7, keys: AggregatorKeys? = nil) throws -> DevicePairing.Request {
        try DevicePairing.makeRequest(serial: serial, pin: pin, secret: DeviceSecret(bytes: [UInt8](repeating: secret, count: 32)), board: "b",
                                      sensors: [.init(name: "air", driver: "bme280", intervalMilliseconds: 1000)], time: UInt64(t0),
                                      aggregator: keys ?? aggregator.publicKeys, kdf: Self.fastKDF)
    }

    func wrong(_ pin: PIN) throws -> PIN { try PIN(validating: pin.digits == "11111111" ? "22222222" : "11111111") }

    /// The broker between them: it sees, keeps and may change everything.
    final class HostileBroker: @unchecked Sendable {
        let judge: PairingJudge
        let aggregatorKey: Curve25519.Signing.PrivateKey
        let now: Int64
        var recorded: [(topic: String, payload: [UInt8])] = []

        init(judge: PairingJudge, aggregatorKey: Curve25519.Signing.PrivateKey, now: Int64) {
            self.judge = judge
            self.aggregatorKey = aggregatorKey
            self.now = now
        }

        /// Hands a request to the aggregator and returns its answer (nil: it gave none), recording both.
        func deliver(_ payload: [UInt8], serial: String) async throws -> (PairingAuthority.Decision?, [UInt8]?) {
            recorded.append((Topics.pairRequest(serial), payload))
            guard case let .success((decision, request)) = try await judge.judge(bytes: payload, topic: Topics.pairRequest(serial), now: now) else {
                return (nil, nil)
            }
            let answer = try PairingAuthority.response(to: request, decision: decision, aggregatorKey: aggregatorKey, now: UInt64(now))
            recorded.append((Topics.pairResponse(serial), answer))
            return (decision, answer)
        }

        /// Keeps a request without delivering it.
        func drop(_ payload: [UInt8], serial: String) {
            recorded.append((Topics.pairRequest(serial), payload))
        }
    }

    @Test(arguments: Kind.allCases)
    func aHostileBrokerCanNeitherLearnThePINNorBindItsKeyNorMakeTheDevicePinIt(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let pin = try await enroll(store, "dev-h", attempts: 3)
        let broker = HostileBroker(judge: PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600)),
                                   aggregatorKey: aggregator.signingKey, now: t0)
        let honest = try device("dev-h", pin: pin)

        // 1. The broker drops the device's request and answers it itself, "accepted", signed by a key of its own.
        broker.drop(honest.message, serial: "dev-h")
        let brokerKey = Curve25519.Signing.PrivateKey()
        let fake = try PairingAuthority.response(to: honest.request,
                                                 decision: .accepted(publicKey: Array(honest.identityKey.publicKey.rawRepresentation),
                                                                     request: honest.request, highestSequence: 0),
                                                 aggregatorKey: brokerKey, now: UInt64(t0))
        #expect(throws: WireError.self) { try DevicePairing.checkResponse(fake, to: honest) }
        // ...or announces its own keys, hoping the device seals the PIN to it: the fingerprint says no.
        let impostor = try AggregatorIdentity(seed: Array(brokerKey.rawRepresentation))
        #expect(throws: DevicePairing.TrustError.self) {
            try DevicePairing.trustedKeys(announcement: try impostor.signedAnnouncement(), fingerprint: aggregator.fingerprint)
        }

        // 2. With the recording it cannot open the request (only the aggregator's pairing key does), so it must guess
        //    online: its own key, a guessed PIN, sealed to the real aggregator. That costs an attempt, like any guess.
        let guess = try device("dev-h", pin: try wrong(pin), secret: 9)
        #expect(try await broker.deliver(guess.message, serial: "dev-h").0 == .wrongPIN(attemptsLeft: 2))
        // An altered copy of the device's request does not open: no answer, no attempt spent.
        var altered = try SealedPairRequest(decoding: honest.message)
        altered.ciphertext[3] ^= 0x40
        #expect(try await broker.deliver(altered.encode(), serial: "dev-h").0 == nil)
        // Moved to another serial's topic: refused unanswered.
        if case .success = try await broker.judge.judge(bytes: honest.message, topic: Topics.pairRequest("dev-x"), now: t0) {
            Issue.record("a request moved to another serial's topic must not be judged")
        }

        // 3. It finally lets the recorded request through: the device's key is bound, the answer verifies on the device.
        let (decision, answer) = try await broker.deliver(honest.message, serial: "dev-h")
        guard case .accepted = decision else { Issue.record("expected acceptance, got \(String(describing: decision))"); return }
        let response = try DevicePairing.checkResponse(try #require(answer), to: honest)
        #expect(response.result == .accepted)
        #expect(try await store.deviceKeys(serial: "dev-h")?.currentKeyID == KeyID.of(honest.identityKey.publicKey))

        // 4. Replays of anything recorded change nothing: the request is stale, the guess too; the bound key stays.
        for (topic, payload) in broker.recorded where topic.hasSuffix("/pair/req") {
            let replayed = try await broker.judge.judge(bytes: payload, topic: topic, now: t0)
            if case let .success((again, _)) = replayed { #expect(again == .stale || again == .alreadyUsed, "\(again)") }
        }
        #expect(try await store.deviceKeys(serial: "dev-h")?.currentKeyID == KeyID.of(honest.identityKey.publicKey))

        // 5. Nothing recorded holds the PIN.
        for (_, payload) in broker.recorded { #expect(payload.firstRange(of: Array(pin.digits.utf8)) == nil) }
    }

    @Test(arguments: Kind.allCases)
    func parallelWrongGuessesGetNoMoreTriesThanTheLimit(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let pin = try await enroll(store, "dev-p", attempts: 5)
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        let guesses = try (0..<16).map { index in try device("dev-p", pin: try PIN(validating: String(format: "%08d", (Int(pin.digits)! + 1 + index) % 100_000_000)),
                                                             secret: UInt8(index)) }
        let decisions = try await withThrowingTaskGroup(of: PairingAuthority.Decision.self) { group in
            for guess in guesses {
                group.addTask { try await judge.judge(bytes: guess.message, topic: Topics.pairRequest("dev-p"), now: t0).get().0 }
            }
            var all: [PairingAuthority.Decision] = []
            for try await decision in group { all.append(decision) }
            return all
        }
        let wrongs = decisions.filter { if case .wrongPIN = $0 { return true } else { return false } }
        // Exactly five attempts were judged (four "wrong, n left" and the fifth locking); every other guess was refused as locked.
        #expect(wrongs.count == 4, "\(decisions)")
        #expect(decisions.filter { $0 == .locked }.count == 12, "\(decisions)")
        #expect(Set(wrongs.map { if case let .wrongPIN(left) = $0 { left } else { -1 } }) == [1, 2, 3, 4])
        // And the right PIN now is refused too.
        #expect(try await judge.judge(bytes: try device("dev-p", pin: pin).message, topic: Topics.pairRequest("dev-p"), now: t0).get().0 == .locked)
    }

    /// What a reader of a database backup finds: a salt and a salted
    /// scrypt, nothing that opens a pairing without guessing the PIN.
    @Test func aDatabaseReaderFindsOnlyASaltedScrypt() async throws {
        let (store, path, stop) = try await open(.sqlite)
        defer { stop() }
        let pin = try await enroll(store, "dev-r")
        let queue = try DatabaseQueue(path: try #require(path))
        let row = try #require(try await queue.read { db in try Row.fetchOne(db, sql: "SELECT * FROM enrollment WHERE serial = 'dev-r'") })
        let salt = Array(row["salt"] as Data), verifier = Array(row["verifier"] as Data)
        #expect(salt.count == 16 && verifier.count == 32)
        #expect(verifier == (try KeyDerivation.pinVerifier(pin: pin, salt: salt, kdf: Self.fastKDF)))
        for column in row.columnNames {
            switch (row[column] as DatabaseValue).storage {
            case let .blob(bytes): #expect(Array(bytes).firstRange(of: Array(pin.digits.utf8)) == nil, "\(column)")
            case let .string(text): #expect(!text.contains(pin.digits), "\(column)")
            case let .int64(number): #expect(String(number) != pin.digits, "\(column)")
            default: break
            }
        }
        // A second enrollment of the same serial gets a new salt.
        _ = try await enroll(store, "dev-r")
        let again = try #require(try await queue.read { db in try Data.fetchOne(db, sql: "SELECT salt FROM enrollment WHERE serial = 'dev-r'") })
        #expect(Array(again) != salt)
    }

    @Test(arguments: Kind.allCases)
    func revocationCancelsPendingPINsAndHoldsUntilReinstatedAndEnrolledAgain(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        let first = try await enroll(store, "dev-v")
        let paired = try device("dev-v", pin: first)
        guard case .accepted = try await judge.judge(bytes: paired.message, topic: Topics.pairRequest("dev-v"), now: t0).get().0 else {
            Issue.record("setup"); return
        }
        // A PIN issued, then the device revoked: that PIN no longer pairs, and no new one can be issued.
        let pending = try await enroll(store, "dev-v")
        #expect(try await store.revoke(serial: "dev-v", at: t0, logKey: TestAggregator.logKey))
        #expect(try await judge.judge(bytes: try device("dev-v", pin: pending).message, topic: Topics.pairRequest("dev-v"), now: t0).get().0 == .revoked)
        await #expect(throws: EnrollmentRefused.revoked(serial: "dev-v")) { try await enroll(store, "dev-v") }
        #expect(try await store.deviceKeys(serial: "dev-v")?.revoked == true)
        // Reinstated: still nothing trusted until a new enrollment pairs (the old key stays retired).
        #expect(try await store.reinstate(serial: "dev-v", at: t0, logKey: TestAggregator.logKey))
        #expect(try await !store.reinstate(serial: "dev-v", at: t0, logKey: TestAggregator.logKey))
        let keys = try #require(try await store.deviceKeys(serial: "dev-v"))
        #expect(!keys.revoked && keys.current == nil && keys.retiredKeyIDs.contains(KeyID.of(paired.identityKey.publicKey)))
        #expect(try await judge.judge(bytes: try device("dev-v", pin: pending).message, topic: Topics.pairRequest("dev-v"), now: t0).get().0 == .unknownSerial)
        let fresh = try await enroll(store, "dev-v")
        let repaired = try device("dev-v", pin: fresh, secret: 8)
        guard case .accepted = try await judge.judge(bytes: repaired.message, topic: Topics.pairRequest("dev-v"), now: t0).get().0 else {
            Issue.record("a reinstated, newly enrolled serial pairs"); return
        }
        #expect(try await store.deviceKeys(serial: "dev-v")?.currentKeyID == KeyID.of(repaired.identityKey.publicKey))
    }

    @Test(arguments: Kind.allCases)
    func theAnswerTellsAReflashedDeviceTheHighestSequenceHeld(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        let judge = PairingJudge(store: store, identity: aggregator, maximumAge: .seconds(600))
        let pin = try await enroll(store, "dev-s")
        let before = try device("dev-s", pin: pin)
        guard case let .accepted(_, _, none) = try await judge.judge(bytes: before.message, topic: Topics.pairRequest("dev-s"), now: t0).get().0 else {
            Issue.record("setup"); return
        }
        #expect(none == 0)
        for sequence in [1, 2, 3, 9] as [UInt64] {
            let telemetry = Telemetry(serial: "dev-s", sequence: sequence, floor: 0, timestamp: UInt64(t0 + 1000), clockSynchronised: true,
                                      bootID: [UInt8](repeating: 1, count: 16), millisecondsSinceBoot: sequence,
                                      readings: [.init(sensor: "air", quantity: "temperature", value: 280, unit: "K")], statuses: [])
            let raw = try COSESign1.sign(payload: telemetry.encode(), with: before.identityKey, keyID: KeyID.of(before.identityKey.publicKey))
            _ = try await store.commit(StoredMessage(VerifiedTelemetry(telemetry: telemetry, raw: raw, keyID: KeyID.of(before.identityKey.publicKey)),
                                                     receivedAt: t0 + 1000))
        }
        // Wiped and re-enrolled: a new secret, a new key, and the answer says 9 is held.
        let again = try await enroll(store, "dev-s")
        let reflashed = try device("dev-s", pin: again, secret: 0x33)
        let (decision, request) = try await judge.judge(bytes: reflashed.message, topic: Topics.pairRequest("dev-s"), now: t0).get()
        guard case let .accepted(_, _, highest) = decision else { Issue.record("\(decision)"); return }
        #expect(highest == 9)
        let answer = try PairingAuthority.response(to: request, decision: decision, aggregatorKey: aggregator.signingKey, now: UInt64(t0))
        #expect(try DevicePairing.checkResponse(answer, to: reflashed).highestSequence == 9)
    }

    /// The binding step is decided once (`PairingAuthority.bindingRefusal`)
    /// for both stores: a request naming a sensor twice (no device's own
    /// configuration makes one) is refused whole, binds nothing and leaves
    /// the enrollment usable, where PostgreSQL used to keep the first of the
    /// names and SQLite the last.
    @Test(arguments: Kind.allCases)
    func aRequestNamingASensorTwiceIsRefusedByBothStoresAndBindsNothing(kind: Kind) async throws {
        let (store, _, stop) = try await open(kind)
        defer { stop() }
        _ = try await enroll(store, "dev-r")
        let key = Curve25519.Signing.PrivateKey()
        func request(_ sensors: [PairRequest.Sensor]) -> PairRequest {
            PairRequest(serial: "dev-r", publicKey: Array(key.publicKey.rawRepresentation), board: "b", sensors: sensors,
                        nonce: [UInt8](repeating: 5, count: 16), time: UInt64(t0), pin: "")
        }
        let twice = request([.init(name: "air", driver: "bme280", intervalMilliseconds: 1000),
                             .init(name: "air", driver: "sht4x", intervalMilliseconds: 2000)])
        guard case let .malformed(reason) = try await store.completePairing(twice, now: t0, logKey: TestAggregator.logKey) else {
            Issue.record("a repeated sensor name was not refused"); return
        }
        #expect(reason.contains("\"air\" is repeated"))
        #expect(try await store.deviceKeys(serial: "dev-r")?.current == nil, "nothing is bound")
        let once = request([.init(name: "air", driver: "bme280", intervalMilliseconds: 1000)])
        guard case .accepted = try await store.completePairing(once, now: t0, logKey: TestAggregator.logKey) else {
            Issue.record("the enrollment was used up by the refused request"); return
        }
        #expect(try await store.deviceKeys(serial: "dev-r")?.current?.rawRepresentation == key.publicKey.rawRepresentation)
        #expect(try await store.completePairing(once, now: t0, logKey: TestAggregator.logKey) == .alreadyUsed)
    }
}
