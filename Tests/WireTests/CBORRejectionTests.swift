import Testing
@testable import Wire

@Suite struct CBORRejectionTests {
    func rejects(_ hexText: String, limits: CBORLimits = .message) -> CBORError? {
        do {
            _ = try CBORDecoder.decode(hex(hexText), limits: limits)
            return nil
        } catch {
            return error
        }
    }

    @Test func indefiniteLengthsFromAppendixA() {
        for example in ["5f42010243030405ff", "7f657374726561646d696e67ff", "9fff", "9f018202039f0405ffff", "9f01820203820405ff",
                        "83018202039f0405ff", "83019f0203ff820405", "bf61610161629f0203ffff", "826161bf61626163ff", "bf6346756ef563416d7421ff"] {
            guard case .indefiniteLength = rejects(example) else {
                Issue.record("\(example) must be rejected as indefinite")
                continue
            }
        }
    }

    @Test func nonPreferredFloatsFromAppendixA() {
        // Infinity and NaN in single and double precision (Appendix A lists them).
        for example in ["fa7f800000", "fa7fc00000", "faff800000", "fb7ff0000000000000", "fb7ff8000000000000", "fbfff0000000000000",
                        "fa3f800000" /* 1.0 as single */, "fb3ff8000000000000" /* 1.5 as double */] {
            #expect(rejects(example) == .nonPreferredFloat(offset: 0), "\(example)")
        }
    }

    @Test func nonShortestIntegersAndLengths() {
        #expect(rejects("1817") == .nonShortestForm(offset: 0))
        #expect(rejects("190017") == .nonShortestForm(offset: 0))
        #expect(rejects("1a0000ffff") == .nonShortestForm(offset: 0))
        #expect(rejects("1b00000000ffffffff") == .nonShortestForm(offset: 0))
        #expect(rejects("5801ff") == .nonShortestForm(offset: 0))
        #expect(rejects("3817") == .nonShortestForm(offset: 0))
    }

    @Test func structuralProblems() {
        #expect(rejects("0000") == .trailingBytes(offset: 1))
        #expect(rejects("a201020102") == .duplicateMapKey(offset: 3))
        #expect(rejects("a203040102") == .unsortedMapKeys(offset: 3))
        #expect(rejects("62c328") == .invalidUTF8(offset: 0))
        #expect(rejects("f7") == .unknownSimpleValue(23, offset: 0), "undefined is not allowed")
        #expect(rejects("f0") == .unknownSimpleValue(16, offset: 0))
        #expect(rejects("f8ff") == .unknownSimpleValue(255, offset: 0))
        #expect(rejects("1c") == .reservedAdditionalInformation(offset: 0))
        #expect(rejects("fc") == .reservedAdditionalInformation(offset: 0))
        #expect(rejects("") == .truncated(offset: 0))
        #expect(rejects("1a0000") == .truncated(offset: 1))
    }

    @Test func hugeLengthsFailBeforeAllocating() {
        // A byte string claiming 2^64-1 bytes, an array claiming 2^32 items.
        #expect(rejects("5bffffffffffffffff") == .truncated(offset: 0))
        #expect(rejects("9b0000000100000000") == .truncated(offset: 0))
        #expect(rejects("bb0000000100000000") == .truncated(offset: 0))
    }

    @Test func limits() {
        let deep = String(repeating: "81", count: 20) + "00"
        #expect(rejects(deep) == .tooDeep(limit: 16))
        let many = "99" + "1000" + String(repeating: "00", count: 0x1000)
        #expect(rejects(many, limits: CBORLimits(maximumItems: 100)) == .tooManyItems(limit: 100))
        #expect(rejects(String(repeating: "00", count: 20_000)) == .tooLarge(size: 20_000, limit: 16 * 1024))
    }
}
