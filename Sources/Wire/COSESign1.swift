import Crypto

/// COSE_Sign1 (RFC 9052 §4.2) with EdDSA (alg −8) over Ed25519.
///
/// `COSE_Sign1 = 18([protected: bstr, unprotected: {}, payload: bstr, signature: bstr])`
/// with protected header `{1: -8, 4: kid}`. The signature covers
/// `Sig_structure = ["Signature1", protected, h'', payload]` (§4.4), and the
/// signed bytes travel exactly as they were signed: verifying never
/// re-encodes anything.
public struct COSESign1: Equatable, Sendable {
    public static let tag: UInt64 = 18
    public static let algorithmEdDSA: Int64 = -8

    /// The protected header exactly as transmitted (a CBOR map, encoded).
    public let protectedHeader: [UInt8]
    public let keyID: [UInt8]
    public let payload: [UInt8]
    public let signature: [UInt8]

    /// Signs `payload` with `key`; returns the encoded, tagged message.
    public static func sign(payload: [UInt8], with key: Curve25519.Signing.PrivateKey, keyID: [UInt8]) throws -> [UInt8] {
        let protected = CBOREncoder.encode(.map([CBORPair(.int(1), .int(algorithmEdDSA)), CBORPair(.int(4), .bytes(keyID))]))
        let signature = Array(try key.signature(for: sigStructure(protected: protected, payload: payload)))
        return CBOREncoder.encode(.tagged(tag, .array([.bytes(protected), .map([]), .bytes(payload), .bytes(signature)])))
    }

    /// The bytes a signature covers.
    /// Written directly rather than through `CBOR` values: this runs once
    /// per verified message, and building the tree (four nodes and copies
    /// of the payload) cost about as much as decoding the envelope. The
    /// bytes are the same (a test compares them with the generic encoder).
    public static func sigStructure(protected: [UInt8], payload: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(protected.count + payload.count + 24)
        output.append(0x84)                           // array(4)
        output.append(0x6A)                           // text(10)
        output.append(contentsOf: "Signature1".utf8)
        CBOREncoder.appendHead(major: 2, UInt64(protected.count), to: &output)
        output.append(contentsOf: protected)
        output.append(0x40)                           // external_aad: bstr(0)
        CBOREncoder.appendHead(major: 2, UInt64(payload.count), to: &output)
        output.append(contentsOf: payload)
        return output
    }

    /// Parses a tagged COSE_Sign1 and checks its shape: EdDSA, a kid, an
    /// empty unprotected header, a 64-byte signature.
    public init(decoding bytes: [UInt8], limits: CBORLimits = .message) throws(WireError) {
        let item: CBOR
        do {
            item = try CBORDecoder.decode(bytes, limits: limits)
        } catch {
            if case .tooLarge = error { throw .oversized(size: bytes.count, limit: limits.maximumSize) }
            throw .malformed("not deterministic CBOR: \(error)")
        }
        guard case let .tagged(tag, content) = item, tag == Self.tag else { throw .malformed("not a COSE_Sign1 (CBOR tag 18)") }
        guard case let .array(parts) = content, parts.count == 4 else { throw .malformed("COSE_Sign1 must be an array of 4") }
        guard let protected = parts[0].bytes, let unprotected = parts[1].pairs, let payload = parts[2].bytes, let signature = parts[3].bytes else {
            throw .malformed("COSE_Sign1 parts have the wrong types")
        }
        guard unprotected.isEmpty else { throw .malformed("the unprotected header must be empty") }
        guard signature.count == 64 else { throw .malformed("an Ed25519 signature is 64 bytes, not \(signature.count)") }
        let header: CBOR
        do {
            header = try CBORDecoder.decode(protected, limits: CBORLimits(maximumSize: 256, maximumDepth: 2, maximumItems: 16))
        } catch {
            throw .malformed("protected header: \(error)")
        }
        guard let pairs = header.pairs, pairs.count == 2, header[1]?.int64 == Self.algorithmEdDSA, let kid = header[4]?.bytes else {
            throw .malformed("the protected header must be exactly {1: -8 (EdDSA), 4: kid}")
        }
        self.protectedHeader = protected
        self.keyID = kid
        self.payload = payload
        self.signature = signature
    }

    /// Whether `publicKey` made the signature.
    public func isValid(for publicKey: Curve25519.Signing.PublicKey) -> Bool {
        publicKey.isValidSignature(signature, for: Self.sigStructure(protected: protectedHeader, payload: payload))
    }
}

/// Key ids: the first 16 bytes of SHA-256 of the raw public key.
public enum KeyID {
    public static func of(_ publicKey: Curve25519.Signing.PublicKey) -> [UInt8] {
        of(rawPublicKey: Array(publicKey.rawRepresentation))
    }

    public static func of(rawPublicKey: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: rawPublicKey).prefix(16))
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
