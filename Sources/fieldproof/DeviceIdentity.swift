import Agent
import Crypto
import Identity
import TransparencyLog
import Wire

/// Signs the daemon's Telemetry drafts as COSE_Sign1 with the paired
/// identity key.
struct IdentityTelemetrySigner: TelemetrySigner {
    let key: Curve25519.Signing.PrivateKey
    let keyIDBytes: [UInt8]

    init(identity: PairedIdentity) {
        key = identity.identityKey
        keyIDBytes = identity.keyID
    }

    var keyID: String { KeyID.hex(keyIDBytes) }

    func sign(_ draft: TelemetryDraft) throws -> [UInt8] {
        let telemetry = Telemetry(
            serial: draft.serial, sequence: draft.sequence, floor: draft.floor, timestamp: draft.clock.unixMilliseconds,
            clockSynchronised: draft.clock.synchronised, bootID: draft.clock.bootID, millisecondsSinceBoot: draft.clock.millisecondsSinceBoot,
            readings: draft.readings, statuses: draft.statuses, logSize: draft.logSize)
        return try COSESign1.sign(payload: telemetry.encode(), with: key, keyID: keyIDBytes)
    }
}

/// Accepts only Acks signed by the aggregator key pinned at pairing.
struct PinnedAckVerifier: AckVerifier {
    let aggregatorKey: Curve25519.Signing.PublicKey

    func acknowledgedSequence(in payload: [UInt8], serial: String) -> UInt64? {
        DevicePairing.checkAck(payload, serial: serial, aggregatorKey: aggregatorKey)
    }
}

/// Checks log receipts with the aggregator key pinned at pairing, the
/// device's own public key and the configured witnesses.
struct PinnedLogReceiptVerifier: LogReceiptVerifier {
    let aggregatorKey: Curve25519.Signing.PublicKey
    let deviceKey: [UInt8]
    let witnesses: [TlogProof.TrustedWitness]
    let quorum: Int

    init(identity: PairedIdentity, log: AgentConfiguration.LogAudit) {
        aggregatorKey = identity.aggregatorKey
        deviceKey = Array(identity.identityKey.publicKey.rawRepresentation)
        // The configuration checked every key when it was read.
        witnesses = log.witnesses.compactMap { try? TlogProof.TrustedWitness(verifierKey: $0) }
        quorum = log.witnessQuorum
    }

    func check(_ payload: [UInt8], serial: String, view: DeviceLogView, message: (UInt64) -> [UInt8]?) -> LogReceiptVerdict {
        LogReceipt.check(payload, serial: serial, deviceKey: deviceKey, aggregatorKey: aggregatorKey, witnesses: witnesses, quorum: quorum,
                         view: view, message: message)
    }
}
