import Aggregator
import Crypto
import Foundation
import Synchronization
import TransparencyLog

/// A witness in-process: TransparencyLog's `Witness` (the same decisions
/// `fieldproof-witness serve` makes) behind the collector's transport, with
/// the ways a real one goes wrong, and a record of each request's old size.
final class WitnessDouble: Sendable {
    enum Behaviour: Sendable {
        case honest
        /// Answers 200 with its cosignature altered (one signature byte flipped).
        case tampered
        /// Answers 200 with another witness's cosignature (a valid line of an unknown key).
        case foreignKey
        /// No connection.
        case down
        /// Accepts the connection and never answers.
        case silent
    }

    struct Down: Error, CustomStringConvertible {
        var description: String { "connection refused" }
    }

    let url: String
    let cosigner: Cosigner
    let witness: Witness
    /// A witness of the same name with another key: what `.foreignKey` answers with.
    private let stranger: Witness
    private let behaviour: Mutex<Behaviour>
    private let olds = Mutex<[UInt64]>([])

    init(name: String, origin: String, log: NoteVerifier, recorded: Witness.Recorded? = nil, behaviour: Behaviour = .honest) throws {
        url = "http://\(name)"
        cosigner = try Cosigner(name: name, key: Curve25519.Signing.PrivateKey())
        witness = Witness(cosigner: cosigner, logs: [origin: [log]], recorded: recorded.map { [origin: $0] } ?? [:]) { _ in }
        stranger = Witness(cosigner: try Cosigner(name: name, key: Curve25519.Signing.PrivateKey()), logs: [origin: [log]],
                           recorded: recorded.map { [origin: $0] } ?? [:]) { _ in }
        self.behaviour = Mutex(behaviour)
    }

    var endpoint: WitnessEndpoint { WitnessEndpoint(url: url, key: cosigner.verifierKey) }
    func trusted() throws -> TlogProof.TrustedWitness { try TlogProof.TrustedWitness(verifierKey: cosigner.verifierKey) }
    /// The `old` size of each request it was sent, in order.
    var requests: [UInt64] { olds.withLock { $0 } }

    func behave(_ next: Behaviour) { behaviour.withLock { $0 = next } }

    func answer(_ body: [UInt8]) async throws -> WitnessAnswer {
        let firstLine = String(decoding: body.prefix { $0 != 0x0A }, as: UTF8.self)
        olds.withLock { $0.append(UInt64(firstLine.dropFirst(4)) ?? .max) }
        let behaviour = behaviour.withLock { $0 }
        switch behaviour {
        case .down: throw Down()
        case .silent:
            try await Task.sleep(for: .seconds(3600))
            throw Down()
        case .honest, .tampered, .foreignKey:
            let response = (behaviour == .foreignKey ? stranger : witness).addCheckpoint(body, time: 1_800_000_000)
            let text = response.status == 200 && behaviour == .tampered ? Self.flipLastSignatureByte(response.body) : response.body
            return WitnessAnswer(status: response.status, contentType: response.contentType, body: Array(text.utf8))
        }
    }

    /// The same line with the last byte of its signature changed, still
    /// canonical base64 of the right length.
    static func flipLastSignatureByte(_ line: String) -> String {
        let parts = line.dropLast().split(separator: " ")
        guard let encoded = parts.last, var bytes = Array(base64: String(encoded)) else { return line }
        bytes[bytes.count - 1] ^= 0x01
        return parts.dropLast().joined(separator: " ") + " " + bytes.base64 + "\n"
    }
}

/// Routes each request to the double with its URL.
struct WitnessRouter: WitnessTransport {
    let witnesses: [WitnessDouble]

    func post(_ body: [UInt8], to url: String, limit: Int) async throws -> WitnessAnswer {
        guard let witness = witnesses.first(where: { $0.url + "/add-checkpoint" == url }) else { throw WitnessDouble.Down() }
        let answer = try await witness.answer(body)
        guard answer.body.count <= limit else { throw WitnessDouble.Down() }
        return answer
    }
}

extension Array where Element == UInt8 {
    init?(base64 text: String) {
        guard let data = Data(base64Encoded: text) else { return nil }
        self = Array(data)
    }

    var base64: String { Data(self).base64EncodedString() }
}
