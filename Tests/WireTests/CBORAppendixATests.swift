import Testing
@testable import Wire

/// RFC 8949 Appendix A: every example our types cover, in both directions.
/// (Examples whose encoding is not deterministic — indefinite lengths and
/// the non-preferred float forms — are in the rejection tests.)
@Suite struct CBORAppendixATests {
    static let examples: [(CBOR, String)] = [
        (.unsigned(0), "00"), (.unsigned(1), "01"), (.unsigned(10), "0a"), (.unsigned(23), "17"), (.unsigned(24), "1818"),
        (.unsigned(25), "1819"), (.unsigned(100), "1864"), (.unsigned(1000), "1903e8"), (.unsigned(1_000_000), "1a000f4240"),
        (.unsigned(1_000_000_000_000), "1b000000e8d4a51000"), (.unsigned(18_446_744_073_709_551_615), "1bffffffffffffffff"),
        (.tagged(2, .bytes(hex("010000000000000000"))), "c249010000000000000000"),
        (.negative(18_446_744_073_709_551_615), "3bffffffffffffffff"),
        (.tagged(3, .bytes(hex("010000000000000000"))), "c349010000000000000000"),
        (.int(-1), "20"), (.int(-10), "29"), (.int(-100), "3863"), (.int(-1000), "3903e7"),
        (.float(0.0), "f90000"), (.float(-0.0), "f98000"), (.float(1.0), "f93c00"), (.float(1.1), "fb3ff199999999999a"),
        (.float(1.5), "f93e00"), (.float(65504.0), "f97bff"), (.float(100000.0), "fa47c35000"),
        (.float(3.4028234663852886e+38), "fa7f7fffff"), (.float(1.0e+300), "fb7e37e43c8800759c"),
        (.float(5.960464477539063e-8), "f90001"), (.float(0.00006103515625), "f90400"), (.float(-4.0), "f9c400"),
        (.float(-4.1), "fbc010666666666666"), (.float(.infinity), "f97c00"), (.float(-.infinity), "f9fc00"),
        (.bool(false), "f4"), (.bool(true), "f5"), (.null, "f6"),
        (.tagged(0, .text("2013-03-21T20:04:00Z")), "c074323031332d30332d32315432303a30343a30305a"),
        (.tagged(1, .unsigned(1_363_896_240)), "c11a514b67b0"), (.tagged(1, .float(1_363_896_240.5)), "c1fb41d452d9ec200000"),
        (.tagged(23, .bytes(hex("01020304"))), "d74401020304"), (.tagged(24, .bytes(hex("6449455446"))), "d818456449455446"),
        (.tagged(32, .text("http://www.example.com")), "d82076687474703a2f2f7777772e6578616d706c652e636f6d"),
        (.bytes([]), "40"), (.bytes(hex("01020304")), "4401020304"),
        (.text(""), "60"), (.text("a"), "6161"), (.text("IETF"), "6449455446"), (.text("\"\\"), "62225c"),
        (.text("\u{00fc}"), "62c3bc"), (.text("\u{6c34}"), "63e6b0b4"), (.text("\u{10151}"), "64f0908591"),
        (.array([]), "80"), (.array([.unsigned(1), .unsigned(2), .unsigned(3)]), "83010203"),
        (.array([.unsigned(1), .array([.unsigned(2), .unsigned(3)]), .array([.unsigned(4), .unsigned(5)])]), "8301820203820405"),
        (.array((1...25).map { .unsigned($0) }), "98190102030405060708090a0b0c0d0e0f101112131415161718181819"),
        (.map([]), "a0"), (.map([CBORPair(.unsigned(1), .unsigned(2)), CBORPair(.unsigned(3), .unsigned(4))]), "a201020304"),
        (.map([CBORPair(.text("a"), .unsigned(1)), CBORPair(.text("b"), .array([.unsigned(2), .unsigned(3)]))]), "a26161016162820203"),
        (.array([.text("a"), .map([CBORPair(.text("b"), .text("c"))])]), "826161a161626163"),
        (.map(["a", "b", "c", "d", "e"].map { CBORPair(.text($0), .text($0.uppercased())) }), "a56161614161626142616361436164614461656145"),
    ]

    @Test(arguments: 0..<examples.count)
    func encodesAndDecodes(index: Int) throws {
        let (item, expected) = Self.examples[index]
        #expect(hexString(CBOREncoder.encode(item)) == expected)
        let decoded = try CBORDecoder.decode(hex(expected))
        if case let .float(value) = item, case let .float(back) = decoded {
            #expect(value == back && value.sign == back.sign)
        } else {
            #expect(decoded == item)
        }
    }

    @Test func nanIsTheHalfPrecisionQuietNaN() throws {
        #expect(hexString(CBOREncoder.encode(.float(.nan))) == "f97e00")
        guard case let .float(value) = try CBORDecoder.decode(hex("f97e00")) else { Issue.record("not a float"); return }
        #expect(value.isNaN)
    }

    @Test func mapKeysAreSortedByTheirEncodedBytes() {
        // 10 (0x0a) < 100 (0x1864) < -1 (0x20) < "z" (0x617a) < "aa" (0x626161) < [100] < [-1] < false
        let map = CBOR.map([
            CBORPair(.bool(false), .null), CBORPair(.array([.int(-1)]), .null), CBORPair(.array([.unsigned(100)]), .null),
            CBORPair(.text("aa"), .null), CBORPair(.text("z"), .null), CBORPair(.int(-1), .null),
            CBORPair(.unsigned(100), .null), CBORPair(.unsigned(10), .null),
        ])
        #expect(hexString(CBOREncoder.encode(map)) == "a8" + "0af6" + "1864f6" + "20f6" + "617af6" + "626161f6" + "811864f6" + "8120f6" + "f4f6")
    }
}
