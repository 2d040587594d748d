import Crypto
import FoundationEssentials
import Wire

/// The aggregator's two keys, both from its one 32-byte key file: the
/// Ed25519 key that signs Acks, epoch roots and pairing answers (the seed
/// itself, as before), and the X25519 key devices seal their pairing
/// requests to (HKDF of the seed, so no second secret file has to be kept).
public struct AggregatorIdentity: Sendable {
    public let signingKey: Curve25519.Signing.PrivateKey
    public let pairingKey: Curve25519.KeyAgreement.PrivateKey

    public init(seed: [UInt8]) throws(IdentityError) {
        guard seed.count == 32 else { throw .keyDerivation("the aggregator key file must hold 32 bytes") }
        do {
            signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            let pairingSeed = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: seed), salt: Array("fieldproof/pairing-key/v2".utf8),
                                                     info: [], outputByteCount: 32)
            pairingKey = try pairingSeed.withUnsafeBytes { try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: Array($0)) }
        } catch {
            throw .keyDerivation("aggregator keys: \(error)")
        }
    }

    public var publicKeys: AggregatorKeys {
        AggregatorKeys(signingKey: Array(signingKey.publicKey.rawRepresentation), pairingKey: Array(pairingKey.publicKey.rawRepresentation))
    }

    public var fingerprint: String { KeyFingerprint.of(publicKeys) }

    /// The retained announcement on `fieldproof/v1/aggregator/keys`.
    public func signedAnnouncement() throws -> [UInt8] {
        try COSESign1.sign(payload: publicKeys.encode(), with: signingKey, keyID: KeyID.of(signingKey.publicKey))
    }
}

/// What the operator hands the technician with the PIN so the device knows
/// which aggregator to trust before it has paired: the first 128 bits of
/// SHA-256 over both public keys, as 8 groups of 4 hex digits
/// (`3f9a-0c1d-…`). Not secret; a broker that wants the device to seal its
/// PIN to another key would need a second preimage of it.
public enum KeyFingerprint {
    public static func of(_ keys: AggregatorKeys) -> String {
        let digest = Array(SHA256.hash(data: Array("fieldproof/aggregator-keys/v1".utf8) + keys.signingKey + keys.pairingKey).prefix(16))
        return grouped(digest.map { byte in String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16) }.joined())
    }

    /// The canonical form of a typed fingerprint (case, dashes and spaces
    /// ignored), or nil when it is not 32 hex digits.
    public static func normalised(_ text: String) -> String? {
        let digits = text.lowercased().filter { $0 != "-" && $0 != " " && $0 != ":" }
        guard digits.count == 32, digits.allSatisfy({ $0.isHexDigit }) else { return nil }
        return grouped(digits)
    }

    /// `3f9a0c1d…` as `3f9a-0c1d-…`: easier to read out and compare.
    private static func grouped(_ hex: String) -> String {
        var groups: [String] = []
        var rest = Substring(hex)
        while !rest.isEmpty {
            groups.append(String(rest.prefix(4)))
            rest = rest.dropFirst(4)
        }
        return groups.joined(separator: "-")
    }
}

/// HPKE (RFC 9180) as pairing uses it: base mode, DHKEM(X25519,
/// HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305; `info` names the protocol
/// version, the associated data is the sealed request's clear header.
public enum PairingSeal {
    public static let ciphersuite = HPKE.Ciphersuite.Curve25519_SHA256_ChachaPoly
    public static let info = Data("fieldproof/pair/v2".utf8)

    public static func seal(_ plaintext: [UInt8], serial: String, to recipient: Curve25519.KeyAgreement.PublicKey) throws -> SealedPairRequest {
        var sender = try HPKE.Sender(recipientKey: recipient, ciphersuite: ciphersuite, info: info)
        let ciphertext = try sender.seal(plaintext, authenticating: SealedPairRequest.associatedData(serial: serial))
        return SealedPairRequest(serial: serial, encapsulatedKey: Array(sender.encapsulatedKey), ciphertext: Array(ciphertext))
    }

    /// nil when the ciphertext was not sealed to `key` for this header.
    public static func open(_ sealed: SealedPairRequest, with key: Curve25519.KeyAgreement.PrivateKey) -> [UInt8]? {
        guard var recipient = try? HPKE.Recipient(privateKey: key, ciphersuite: ciphersuite, info: info,
                                                  encapsulatedKey: Data(sealed.encapsulatedKey)),
              let plaintext = try? recipient.open(sealed.ciphertext, authenticating: SealedPairRequest.associatedData(serial: sealed.serial)) else {
            return nil
        }
        return Array(plaintext)
    }
}
