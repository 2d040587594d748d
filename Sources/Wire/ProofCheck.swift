import Crypto

extension InclusionProof {
    /// What a checked proof establishes.
    public struct Checked: Sendable {
        public var epoch: EpochRoot
        public var telemetry: Telemetry
        /// Key id of the aggregator that signed the epoch root.
        public var aggregatorKeyID: [UInt8]
        /// Whether that signature was checked against a key the caller trusts.
        public var aggregatorVerified: Bool
    }

    /// Checks, offline: the device's signature on the message (with the key
    /// in the proof), the message's leaf against the epoch's Merkle root by
    /// the audit path, and, when `aggregatorKey` is given (the key pinned at
    /// pairing, or one the operator published), the epoch root's signature.
    /// Throws a one-line reason for the first thing that does not hold.
    public func check(aggregatorKey: Curve25519.Signing.PublicKey?) throws(WireError) -> Checked {
        let epochEnvelope = try COSESign1(decoding: epoch)
        let root = try EpochRoot(decoding: epochEnvelope.payload)
        if let aggregatorKey {
            guard epochEnvelope.keyID == KeyID.of(aggregatorKey), epochEnvelope.isValid(for: aggregatorKey) else {
                throw .malformed("the epoch root is not signed by aggregator key \(KeyID.hex(KeyID.of(aggregatorKey)))")
            }
        }
        let envelope = try COSESign1(decoding: message)
        guard let deviceKey = try? Curve25519.Signing.PublicKey(rawRepresentation: devicePublicKey),
              envelope.keyID == KeyID.of(deviceKey), envelope.isValid(for: deviceKey) else {
            throw .malformed("the message's signature does not verify with the device key in the proof")
        }
        let telemetry = try Telemetry(decoding: envelope.payload)
        let leaf = EpochTree.leafHash(Array(SHA256.hash(data: message)))
        guard EpochTree.verify(leaf: leaf, index: leafIndex, size: root.messageCount, proof: path, root: root.root) else {
            throw .malformed("the audit path does not lead from this message to epoch \(root.id)'s Merkle root")
        }
        return Checked(epoch: root, telemetry: telemetry, aggregatorKeyID: epochEnvelope.keyID, aggregatorVerified: aggregatorKey != nil)
    }
}
