import Agent
import ArgumentParser
import Crypto
import Wire

/// What `fieldproof decode` found in a message.
struct MessageReport {
    var kind: String
    var keyID: [UInt8]
    var fields: [(String, JSONText)]
    /// nil: not checked (no key given and none inside).
    var signatureValid: Bool?
    var checkedWith: String?

    static func make(_ bytes: [UInt8], key: Curve25519.Signing.PublicKey?) throws -> MessageReport {
        let envelope: COSESign1
        do {
            envelope = try COSESign1(decoding: bytes)
        } catch {
            throw ValidationError("not a Fieldproof message: \(error)")
        }
        var report = MessageReport(kind: "unknown", keyID: envelope.keyID, fields: [], signatureValid: nil, checkedWith: nil)
        if let key {
            report.signatureValid = envelope.isValid(for: key) && envelope.keyID == KeyID.of(key)
            report.checkedWith = "--key"
        }
        if let telemetry = try? Telemetry(decoding: envelope.payload) {
            report.kind = "Telemetry"
            report.fields = [
                ("serial", .string(telemetry.serial)), ("sequence", .unsigned(telemetry.sequence)), ("floor", .unsigned(telemetry.floor)),
                ("timestamp_ms", .unsigned(telemetry.timestamp)), ("clock_synchronised", .bool(telemetry.clockSynchronised)),
                ("boot_id", .string(KeyID.hex(telemetry.bootID))), ("ms_since_boot", .unsigned(telemetry.millisecondsSinceBoot)),
                ("readings", .array(telemetry.readings.map {
                    .object([("sensor", .string($0.sensor)), ("quantity", .string($0.quantity)), ("value", .number($0.value)), ("unit", .string($0.unit))])
                })),
                ("statuses", .array(telemetry.statuses.map {
                    .object([("sensor", .string($0.sensor)), ("status", $0.errorCode.map { .string($0) } ?? .string("ok"))])
                })),
            ]
        } else if let ack = try? Ack(decoding: envelope.payload) {
            report.kind = "Ack"
            report.fields = [("serial", .string(ack.serial)), ("highest_contiguous", .unsigned(ack.highestContiguous)), ("time_ms", .unsigned(ack.time))]
        } else if let maced = try? MACedBody(decoding: envelope.payload) {
            if let request = try? PairRequest(decodingBody: maced.body) {
                report.kind = "PairRequest"
                report.fields = [
                    ("serial", .string(request.serial)), ("public_key", .string(KeyID.hex(request.publicKey))), ("board", .string(request.board)),
                    ("sensors", .array(request.sensors.map {
                        .object([("name", .string($0.name)), ("driver", .string($0.driver)), ("interval_ms", .unsigned($0.intervalMilliseconds))])
                    })),
                    ("nonce", .string(KeyID.hex(request.nonce))), ("time_ms", .unsigned(request.time)),
                    ("kdf", .object([("scrypt_log2_n", .unsigned(UInt64(request.kdf.logN))), ("r", .unsigned(UInt64(request.kdf.r))), ("p", .unsigned(UInt64(request.kdf.p)))])),
                    ("mac", .string(KeyID.hex(maced.mac))),
                ]
                if key == nil, let own = try? Curve25519.Signing.PublicKey(rawRepresentation: request.publicKey) {
                    report.signatureValid = envelope.isValid(for: own) && envelope.keyID == KeyID.of(own)
                    report.checkedWith = "the key it carries (proof of possession)"
                }
            } else if let response = try? PairResponse(decodingBody: maced.body) {
                report.kind = "PairResponse"
                report.fields = [
                    ("serial", .string(response.serial)), ("result", .string("\(response.result)")), ("attempts_left", .unsigned(response.attemptsLeft)),
                    ("bound_key_id", .string(KeyID.hex(response.boundKeyID))), ("aggregator_key", .string(KeyID.hex(response.aggregatorPublicKey))),
                    ("request_nonce", .string(KeyID.hex(response.requestNonce))), ("time_ms", .unsigned(response.time)),
                ]
                if key == nil, let own = try? Curve25519.Signing.PublicKey(rawRepresentation: response.aggregatorPublicKey) {
                    report.signatureValid = envelope.isValid(for: own) && envelope.keyID == KeyID.of(own)
                    report.checkedWith = "the aggregator key it carries"
                }
            }
        }
        if report.kind == "unknown" {
            throw ValidationError("a COSE_Sign1 whose payload is no Fieldproof message type")
        }
        return report
    }

    func signatureText() -> String {
        switch signatureValid {
        case .some(true): return "valid (checked with \(checkedWith ?? "the key"))"
        case .some(false): return "INVALID (checked with \(checkedWith ?? "the key"))"
        case .none: return "not checked: pass --key with the signer's public key"
        }
    }

    func text() -> String {
        var lines = ["\(kind) (COSE_Sign1, EdDSA, key id \(KeyID.hex(keyID)))", "signature: \(signatureText())"]
        for (name, value) in fields {
            switch value {
            case let .array(items) where name == "readings":
                lines.append("readings:")
                for case let .object(parts) in items {
                    let dictionary = Dictionary(parts, uniquingKeysWith: { first, _ in first })
                    lines.append("  \(Self.plain(dictionary["sensor"]))/\(Self.plain(dictionary["quantity"])) = \(Self.plain(dictionary["value"])) \(Self.plain(dictionary["unit"]))")
                }
            case .array, .object:
                lines.append("\(name): \(value.render(pretty: false))")
            default:
                lines.append("\(name): \(Self.plain(value))")
            }
        }
        return lines.joined(separator: "\n")
    }

    func json() -> JSONText {
        .object([("type", .string(kind)), ("key_id", .string(KeyID.hex(keyID))),
                 ("signature", signatureValid.map { .string($0 ? "valid" : "invalid") } ?? .string("unchecked"))] + fields)
    }

    static func plain(_ value: JSONText?) -> String {
        switch value {
        case let .string(text)?: return text
        case let .some(other): return other.render(pretty: false)
        case nil: return ""
        }
    }
}
