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
    /// empty unprotected header, a 64-byte signature. Read token by token
    /// (no `CBOR` tree: this runs for every message the aggregator gets),
    /// with the decoder's rules and limits.
    public init(decoding bytes: [UInt8], limits: CBORLimits = .message) throws(WireError) {
        guard bytes.count <= limits.maximumSize else { throw .oversized(size: bytes.count, limit: limits.maximumSize) }
        var decoder = CBORDecoder(bytes: bytes, limits: limits)
        func next(_ depth: Int) throws(WireError) -> CBORToken {
            do { return try decoder.token(depth: depth) } catch { throw .malformed("not deterministic CBOR: \(error)") }
        }
        guard case .tag(Self.tag) = try next(0) else { throw .malformed("not a COSE_Sign1 (CBOR tag 18)") }
        guard case .array(4) = try next(1) else { throw .malformed("COSE_Sign1 must be an array of 4") }
        guard case let .bytes(protected) = try next(2) else { throw .malformed("COSE_Sign1 parts have the wrong types") }
        guard case let .map(unprotectedCount) = try next(2) else { throw .malformed("COSE_Sign1 parts have the wrong types") }
        guard unprotectedCount == 0 else { throw .malformed("the unprotected header must be empty") }
        guard case let .bytes(payload) = try next(2), case let .bytes(signature) = try next(2) else {
            throw .malformed("COSE_Sign1 parts have the wrong types")
        }
        do { try decoder.requireEnd() } catch { throw .malformed("not deterministic CBOR: \(error)") }
        guard signature.count == 64 else { throw .malformed("an Ed25519 signature is 64 bytes, not \(signature.count)") }
        self.protectedHeader = Array(bytes[protected])
        self.keyID = try Self.keyID(inProtectedHeader: protectedHeader)
        self.payload = Array(bytes[payload])
        self.signature = Array(bytes[signature])
    }

    /// The kid of a protected header that is exactly {1: -8, 4: kid}.
    private static func keyID(inProtectedHeader protected: [UInt8]) throws(WireError) -> [UInt8] {
        var decoder = CBORDecoder(bytes: protected, limits: CBORLimits(maximumSize: 256, maximumDepth: 2, maximumItems: 16))
        let shape = WireError.malformed("the protected header must be exactly {1: -8 (EdDSA), 4: kid}")
        do {
            guard protected.count <= 256 else { throw CBORError.tooLarge(size: protected.count, limit: 256) }
            guard case .map(2) = try decoder.token(depth: 0), case .unsigned(1) = try decoder.token(depth: 1),
                  case .negative(UInt64(-1 - algorithmEdDSA)) = try decoder.token(depth: 1), case .unsigned(4) = try decoder.token(depth: 1),
                  case let .bytes(kid) = try decoder.token(depth: 1) else { throw shape }
            try decoder.requireEnd()
            return Array(protected[kid])
        } catch let error as WireError {
            throw error
        } catch {
            throw .malformed("protected header: \(error)")
        }
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
