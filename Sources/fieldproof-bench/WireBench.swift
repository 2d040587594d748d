import ArgumentParser
import Crypto
import Foundation
import Wire

/// Telemetry encode+sign and decode+verify rates next to raw Ed25519 sign
/// and verify in the same run. Goal: decode+verify ≥ 0.9 × raw verify.
struct WireBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wire", abstract: "Telemetry encode+sign and decode+verify against raw Ed25519.")

    @Option(help: "Operations per measurement.") var count = 20_000

    /// Holds each device's keys ready (key id computed once), as the
    /// aggregator's registry does.
    struct Registry: DeviceKeyRegistry {
        let deviceKeys: DeviceKeys
        init(key: Curve25519.Signing.PublicKey) { deviceKeys = DeviceKeys(current: key) }
        func keys(for serial: String) -> DeviceKeys? { deviceKeys }
    }

    func run() throws {
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = key.publicKey // computed once per device, as the aggregator does
        let keyID = KeyID.of(publicKey)
        func telemetry(_ sequence: UInt64) -> Telemetry {
            Telemetry(serial: "fp-0001", sequence: sequence, floor: sequence - 1, timestamp: 1_795_561_454_374 + sequence, clockSynchronised: true,
                      bootID: [UInt8](repeating: 7, count: 16), millisecondsSinceBoot: sequence * 1000,
                      readings: [.init(sensor: "air", quantity: "temperature", value: 294.65, unit: "K"),
                                 .init(sensor: "air", quantity: "relative_humidity", value: 45.5, unit: "%"),
                                 .init(sensor: "air", quantity: "pressure", value: 101_325.5, unit: "Pa"),
                                 .init(sensor: "soil", quantity: "temperature", value: 285.15, unit: "K"),
                                 .init(sensor: "soil", quantity: "relative_humidity", value: 61.25, unit: "%"),
                                 .init(sensor: "light", quantity: "illuminance", value: 812.5, unit: "lx")],
                      statuses: [.init(sensor: "air", errorCode: nil), .init(sensor: "soil", errorCode: nil), .init(sensor: "light", errorCode: nil)])
        }
        let drafts = (1...UInt64(count)).map(telemetry)

        // Raw baselines sign and verify the same bytes our messages sign
        // (a Sig_structure), so only the envelope's cost differs.
        let structures = try drafts.map { draft -> [UInt8] in
            let envelope = try COSESign1(decoding: try COSESign1.sign(payload: draft.encode(), with: key, keyID: keyID))
            return COSESign1.sigStructure(protected: envelope.protectedHeader, payload: envelope.payload)
        }
        let signatures = try structures.map { try key.signature(for: $0) }
        var messages: [[UInt8]] = []
        messages.reserveCapacity(count)
        let registry = Registry(key: publicKey)

        // Interleaved rounds: a baseline and its contender are measured back
        // to back, and the median ratio is reported, so a busy machine moves
        // both alike.
        let rounds = 5
        let slice = count / rounds
        var signRatios: [Double] = [], verifyRatios: [Double] = []
        var rawSigns: [Double] = [], ourSigns: [Double] = [], rawVerifies: [Double] = [], ourVerifies: [Double] = []
        for round in 0..<rounds {
            let range = (round * slice)..<((round + 1) * slice)
            let rawSign = try rate(range) { index in _ = try key.signature(for: structures[index]) }
            let encodeSign = try rate(range) { index in messages.append(try COSESign1.sign(payload: drafts[index].encode(), with: key, keyID: keyID)) }
            let rawVerify = try rate(range) { index in if !publicKey.isValidSignature(signatures[index], for: structures[index]) { throw Failure() } }
            let decodeVerify = try rate(range) { index in
                guard case .accepted = TelemetryVerifier.verify(bytes: messages[index], topic: "fieldproof/v1/fp-0001/telemetry", registry: registry,
                                                                now: 1_795_561_454_374) else { throw Failure() }
            }
            rawSigns.append(rawSign); ourSigns.append(encodeSign); rawVerifies.append(rawVerify); ourVerifies.append(decodeVerify)
            signRatios.append(encodeSign / rawSign)
            verifyRatios.append(decodeVerify / rawVerify)
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print("Wire: typical Telemetry (3 sensors, 6 readings, \(messages[0].count) bytes signed), \(count) operations each in \(rounds) interleaved rounds, one core")
        print(String(format: "  raw Ed25519 sign       %9.0f /s (median)", median(rawSigns)))
        print(String(format: "  encode + sign          %9.0f /s   ratio %.2f vs raw sign", median(ourSigns), median(signRatios)))
        print(String(format: "  raw Ed25519 verify     %9.0f /s (median)", median(rawVerifies)))
        print(String(format: "  decode + verify        %9.0f /s   ratio %.2f vs raw verify (goal >= 0.90)", median(ourVerifies), median(verifyRatios)))
    }

    struct Failure: Error {}

    func rate(_ range: Range<Int>, _ body: (Int) throws -> Void) throws -> Double {
        let count = range.count
        let start = ContinuousClock.now
        for index in range { try body(index) }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(count) / seconds
    }
}
