import Crypto
import CryptoExtras
import Testing

/// RFC 7914 §12 vectors that run quickly (the N = 16384 and 1048576 ones
/// take seconds to minutes and are left out).
@Suite struct ScryptVectorTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    @Test func emptyPasswordN16() throws {
        let key = try KDF.Scrypt.deriveKey(from: [UInt8](), salt: [UInt8](), outputByteCount: 64, rounds: 16, blockSize: 1, parallelism: 1)
        #expect(hex(key.withUnsafeBytes { Array($0) }) == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
    }

    @Test func passwordNaClN1024() throws {
        let key = try KDF.Scrypt.deriveKey(from: Array("password".utf8), salt: Array("NaCl".utf8), outputByteCount: 64, rounds: 1024,
                                           blockSize: 8, parallelism: 16)
        #expect(hex(key.withUnsafeBytes { Array($0) }) == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}
