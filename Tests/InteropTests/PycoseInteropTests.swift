import Crypto
import Foundation
import Identity
import Testing
import TestSupport
import Wire

/// Interoperability with code nobody here wrote: Python's pycose and cbor2
/// (installed into .venv by scripts/test, which sets FIELDPROOF_PYTHON).
@Suite struct PycoseInteropTests {
    static let pythonPath = ProcessInfo.processInfo.environment["FIELDPROOF_PYTHON"]
    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil
    static let script = ProjectPaths.root.appendingPathComponent("scripts/interop/cose_interop.py").path

    let seed = [UInt8](repeating: 0x5C, count: 32)
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: seed) }
    var publicHex: String { KeyID.hex(Array(key.publicKey.rawRepresentation)) }

    func python(_ arguments: [String]) async throws -> ProcessRunner.Result {
        guard let python = Self.pythonPath else {
            if Self.inCI { Issue.record("FIELDPROOF_PYTHON must be set in CI (scripts/test creates .venv)") }
            throw SkipInterop()
        }
        return try await ProcessRunner.run(python, [Self.script] + arguments)
    }

    struct SkipInterop: Error {}

    func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let url = try TemporaryDirectory.make(prefix: "interop").appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func telemetry() -> Telemetry {
        Telemetry(serial: "fp-0001", sequence: 9, floor: 8, timestamp: 1_795_561_454_374, clockSynchronised: true,
                  bootID: [UInt8](repeating: 7, count: 16), millisecondsSinceBoot: 99,
                  readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                             .init(sensor: "air", quantity: "pressure", value: 101_325, unit: "Pa")],
                  statuses: [.init(sensor: "air", errorCode: nil)])
    }

    @Test(.enabled(if: pythonPath != nil || inCI, "FIELDPROOF_PYTHON is not set: run scripts/test, which makes the venv"))
    func pycoseVerifiesOurTelemetryAndRefusesAChangedByte() async throws {
        let message = try COSESign1.sign(payload: telemetry().encode(), with: key, keyID: KeyID.of(key.publicKey))
        let verified = try await python(["verify", publicHex, try write(message, "telemetry.cbor")])
        #expect(verified.status == 0 && verified.output.contains("valid"), "\(verified.output)")
        let decoded = try await python(["payload", try write(message, "telemetry.cbor")])
        #expect(decoded.output.contains("'fp-0001'") && decoded.output.contains("294.65"), "cbor2 reads our payload: \(decoded.output)")
        var changed = message
        changed[changed.count - 10] ^= 0x20
        let refused = try await python(["verify", publicHex, try write(changed, "changed.cbor")])
        #expect(refused.status != 0)
    }

    @Test(.enabled(if: pythonPath != nil || inCI, "FIELDPROOF_PYTHON is not set: run scripts/test, which makes the venv"))
    func pycoseVerifiesOurPairRequestWithTheDeviceKey() async throws {
        let aggregator = try AggregatorIdentity(seed: [UInt8](repeating: 0x33, count: 32))
        let pairing = try DevicePairing.makeRequest(serial: "fp-0001", pin: try PIN(validating: "12345678"),
                                                    secret: DeviceSecret(bytes: seed), board: "test", sensors: [], time: 1,
                                                    aggregator: aggregator.publicKeys, kdf: .init(logN: 10, r: 8, p: 1))
        // What the aggregator opens: a COSE_Sign1 by the new key (proof of possession).
        let sealed = try SealedPairRequest(decoding: pairing.message)
        let signed = try #require(PairingSeal.open(sealed, with: aggregator.pairingKey))
        let deviceKey = KeyID.hex(Array(pairing.identityKey.publicKey.rawRepresentation))
        let verified = try await python(["verify", deviceKey, try write(signed, "pair.cbor")])
        #expect(verified.status == 0, "\(verified.output)")
        await #expect(try python(["verify", publicHex, try write(signed, "pair.cbor")]).status != 0, "another key must not verify")
    }

    struct Registry: DeviceKeyRegistry {
        let key: Curve25519.Signing.PublicKey
        func keys(for serial: String) -> DeviceKeys? { serial == "fp-0001" ? DeviceKeys(current: key) : nil }
    }

    @Test(.enabled(if: pythonPath != nil || inCI, "FIELDPROOF_PYTHON is not set: run scripts/test, which makes the venv"))
    func ourVerifierAcceptsAMessageMadeByPycose() async throws {
        let payloadFile = try write(telemetry().encode(), "payload.cbor")
        let out = URL(fileURLWithPath: payloadFile).deletingLastPathComponent().appendingPathComponent("pycose.cbor").path
        let signed = try await python(["sign", KeyID.hex(seed), payloadFile, out])
        #expect(signed.status == 0, "\(signed.output)")
        let message = Array(try Data(contentsOf: URL(fileURLWithPath: out)))
        let verdict = TelemetryVerifier.verify(bytes: message, topic: "fieldproof/v1/fp-0001/telemetry",
                                               registry: Registry(key: key.publicKey), now: 1_795_561_454_374)
        guard case let .accepted(verified) = verdict else {
            Issue.record("a pycose message must be accepted: \(verdict)")
            return
        }
        #expect(verified.telemetry == telemetry())
        var changed = message
        changed[changed.count - 1] ^= 0x01
        let refused = TelemetryVerifier.verify(bytes: changed, topic: "fieldproof/v1/fp-0001/telemetry",
                                               registry: Registry(key: key.publicKey), now: 1_795_561_454_374)
        #expect(refused.reason == .badSignature)
    }
}
