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
        if let sealed = try? SealedPairRequest(decoding: bytes) {
            // Sealed to the aggregator: only its private key opens it, so
            // only the clear header can be shown.
            return MessageReport(kind: "PairRequest (sealed, HPKE)", keyID: [], fields: [
                ("serial", .string(sealed.serial)), ("encapsulated_key", .string(KeyID.hex(sealed.encapsulatedKey))),
                ("ciphertext_bytes", .unsigned(UInt64(sealed.ciphertext.count))),
            ], signatureValid: nil, checkedWith: nil)
        }
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
            ] + (telemetry.logSize.map { [("log_size_held", .unsigned($0))] } ?? [])
        } else if let ack = try? Ack(decoding: envelope.payload) {
            report.kind = "Ack"
            report.fields = [("serial", .string(ack.serial)), ("highest_contiguous", .unsigned(ack.highestContiguous)), ("time_ms", .unsigned(ack.time))]
        } else if let response = try? PairResponse(decodingBody: envelope.payload) {
            report.kind = "PairResponse"
            report.fields = [
                ("serial", .string(response.serial)), ("result", .string("\(response.result)")), ("attempts_left", .unsigned(response.attemptsLeft)),
                ("bound_key_id", .string(KeyID.hex(response.boundKeyID))), ("request_nonce", .string(KeyID.hex(response.requestNonce))),
                ("time_ms", .unsigned(response.time)), ("highest_sequence", .unsigned(response.highestSequence)),
            ]
        } else if let receipt = try? LogReceipt(decoding: envelope.payload) {
            // A device keeps the one that raised its alarm (log-alarm.cose).
            report.kind = "LogReceipt"
            report.fields = [
                ("serial", .string(receipt.serial)), ("checkpoint", .string(receipt.checkpoint)),
                ("consistency_from", .unsigned(receipt.consistencyFrom)), ("consistency_proof", .array(receipt.consistency.map { .string($0.base64) })),
                ("sequence", .unsigned(receipt.sequence)), ("message_index", .unsigned(receipt.messageIndex)),
                ("message_inclusion_proof", .array(receipt.messageInclusion.map { .string($0.base64) })),
                ("key_event_index", .unsigned(receipt.keyEventIndex)),
                ("key_event_inclusion_proof", .array(receipt.keyEventInclusion.map { .string($0.base64) })), ("time_ms", .unsigned(receipt.time)),
            ]
        } else if let event = try? KeyEvent(decoding: envelope.payload) {
            report.kind = "KeyEvent"
            report.fields = [("kind", .string(event.kind.rawValue)), ("serial", .string(event.serial)),
                             ("public_key", event.publicKey.map { .string(KeyID.hex($0)) } ?? .null), ("time_ms", .unsigned(event.time))]
                + (event.sensors.map { sensors in
                    [("sensors", .array(sensors.map { .object([("name", .string($0.name)), ("driver", .string($0.driver)),
                                                              ("interval_ms", .unsigned($0.intervalMilliseconds))]) }))]
                } ?? [])
        } else if let keys = try? AggregatorKeys(decoding: envelope.payload) {
            report.kind = "AggregatorKeys"
            report.fields = [("signing_key", .string(KeyID.hex(keys.signingKey))), ("pairing_key", .string(KeyID.hex(keys.pairingKey)))]
            if key == nil, let own = try? Curve25519.Signing.PublicKey(rawRepresentation: keys.signingKey) {
                report.signatureValid = envelope.isValid(for: own) && envelope.keyID == KeyID.of(own)
                report.checkedWith = "the signing key it carries (trust it only by its fingerprint)"
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
