import Crypto
import Foundation
import Testing
@testable import TransparencyLog

/// C2SP signed notes, against the spec's own example and the vectors of Go's
/// golang.org/x/mod/sumdb/note tests.
@Suite struct SignedNoteTests {
    /// c2sp.org/signed-note, "Verifier keys", Example.
    static let specVerifierKey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
    static let specNote = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"

    /// golang.org/x/mod/sumdb/note, note_test.go (TestSign): a signer key
    /// `PRIVATE+KEY+<name>+<id>+base64(0x01 || seed)` and the exact note it makes.
    static let goSeed = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let goVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let goText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let goNote = goText + "\n\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    func goSigner() throws -> NoteSigner {
        let material = try #require(Data(base64Encoded: Self.goSeed))
        return try NoteSigner(name: "PeterNeumann", key: try Curve25519.Signing.PrivateKey(rawRepresentation: material.dropFirst()))
    }

    @Test func theSpecExampleOpensWithItsVerifierKey() throws {
        let verifier = try NoteVerifier(verifierKey: Self.specVerifierKey)
        #expect(verifier.verifierKey == Self.specVerifierKey)
        let opened = try SignedNote.open(Array(Self.specNote.utf8), verifiers: [verifier])
        #expect(opened.text == "This is an example message.\n")
        #expect(opened.signedBy == [verifier])
    }

    @Test func ourSignerMakesGosNoteByteForByte() throws {
        let signer = try goSigner()
        #expect(signer.verifier.verifierKey == Self.goVerifierKey)
        #expect(try SignedNote.sign(Self.goText, by: [signer]) == Self.goNote)
    }

    @Test func changedTextsUnknownKeysAndMalformedNotesAreRefused() throws {
        let verifier = try NoteVerifier(verifierKey: Self.goVerifierKey)
        let stranger = try NoteSigner(name: "PeterNeumann", key: Curve25519.Signing.PrivateKey())
        #expect(throws: NoteError.invalidSignature(keyName: "PeterNeumann")) {
            try SignedNote.open(Array(Self.goNote.replacingOccurrences(of: "answer", with: "solution").utf8), verifiers: [verifier])
        }
        // Same name, other key: its ID differs, so it is an unknown key and ignored.
        let strangers = try SignedNote.sign(Self.goText, by: [stranger])
        #expect(throws: NoteError.noVerifiedSignature) { try SignedNote.open(Array(strangers.utf8), verifiers: [verifier]) }
        // A known signature beside unknown ones still verifies.
        let both = try SignedNote.sign(Self.goText, by: [stranger, try goSigner()])
        #expect(try SignedNote.open(Array(both.utf8), verifiers: [verifier]).signedBy == [verifier])
        for bad in [
            Self.goText,                                                        // no signatures
            Self.goNote.replacingOccurrences(of: "\n\n", with: "\n"),           // no blank line
            Self.goNote.replacingOccurrences(of: "problem,", with: "problem,\u{7}"), // a control character
            Self.goNote.replacingOccurrences(of: "\u{2014} ", with: "- "),      // not an em dash
            String(Self.goNote.dropLast()),                                     // no final newline
        ] {
            #expect(throws: NoteError.self) { try SignedNote.open(Array(bad.utf8), verifiers: [verifier]) }
        }
        #expect(throws: NoteError.malformed("not UTF-8")) { try SignedNote.open(Array(Self.goNote.utf8) + [0xFF, 0x0A], verifiers: [verifier]) }
        #expect(throws: NoteError.tooLarge) {
            try SignedNote.open(Array(repeating: 0x61, count: SignedNote.maximumBytes + 1), verifiers: [verifier])
        }
    }

    /// Base64 has "+" in its alphabet: only the first two separate the parts.
    @Test func verifierKeysReadBackWhateverTheirBase64Holds() throws {
        var sawPlus = false
        for _ in 0..<64 {
            let verifier = try NoteSigner(name: "fieldproof.example/log", key: Curve25519.Signing.PrivateKey()).verifier
            sawPlus = sawPlus || verifier.verifierKey.split(separator: "+").count > 3
            #expect(try NoteVerifier(verifierKey: verifier.verifierKey) == verifier, "\(verifier.verifierKey)")
        }
        #expect(sawPlus, "64 random keys, none with a + in its base64: the test proves nothing")
    }

    @Test func verifierKeysWithAWrongIDLengthOrTypeAreRefused() {
        for bad in [
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // ID of another key
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // hex must be lowercase
            "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  // not Ed25519
            "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",    // short
            "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", // a space in the name
            "c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            #expect(throws: NoteError.self) { try NoteVerifier(verifierKey: bad) }
        }
    }
}

@Suite struct CheckpointTests {
    @Test func aCheckpointReadsBackFromItsText() throws {
        let checkpoint = Checkpoint(origin: "fieldproof.example/log", size: 20852163, root: .leaf([1]), extensions: ["x-note"])
        #expect(try Checkpoint(text: checkpoint.text) == checkpoint)
        #expect(checkpoint.text.hasPrefix("fieldproof.example/log\n20852163\n"))
        // The spec's example body.
        let example = try Checkpoint(text: "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n")
        #expect(example.size == 20852163 && example.origin == "example.com/behind-the-sofa")
    }

    @Test func malformedCheckpointsAreRefused() {
        let root = MerkleHash.leaf([1]).base64
        for bad in ["origin\n012\n\(root)\n", "origin\n-1\n\(root)\n", "origin\n12\n\(root)", "origin\n12\n", "\n12\n\(root)\n",
                    "origin\n12\nAAAA\n", "origin\n12\n\(root)\n\n", "origin\n18446744073709551616\n\(root)\n", "origin\n+12\n\(root)\n"] {
            #expect(throws: NoteError.self, "\(bad)") { try Checkpoint(text: bad) }
        }
    }
}

/// C2SP tlog-tiles paths and layout, against the spec's examples.
@Suite struct TileTests {
    @Test func pathsAreEncodedAsTheSpecShows() throws {
        #expect(Tile(kind: .hashes(level: 0), index: 1_234_067)!.path == "tile/0/x001/x234/067")
        #expect(Tile(kind: .hashes(level: 2), index: 0, width: 1)!.path == "tile/2/000.p/1")
        #expect(Tile(kind: .entries, index: 273, width: 112)!.path == "tile/entries/273.p/112")
        for tile in [Tile(kind: .hashes(level: 0), index: 1_234_067)!, Tile(kind: .hashes(level: 63), index: .max, width: 255)!,
                     Tile(kind: .entries, index: 5)!, Tile(kind: .entries, index: 1000, width: 3)!] {
            #expect(Tile(path: tile.path) == tile, "\(tile.path)")
        }
    }

    @Test func requestsForPathsThatAreNotCanonicalAreRefused() {
        for bad in ["tile/0/1234067", "tile/0/x001/234067", "tile/0/001/234", "tile/00/000", "tile/64/000", "tile/0/000.p/256",
                    "tile/0/000.p/0", "tile/0/000.p/07", "tile/0/000/", "tile//000", "tile/0", "tiles/0/000", "tile/0/x000/001",
                    "tile/entries/000.p", "tile/0/../000", "tile/0/x018/x446/x744/x073/x709/x551/616", "tile/-1/000"] {
            #expect(Tile(path: bad) == nil, "\(bad)")
        }
    }

    /// "a tree of size 70,000 will be represented by 273 full level 0 tiles,
    /// one partial level 0 tile of width 112, one full level 1 tile, one
    /// partial level 1 tile of width 17, and one partial level 2 tile of
    /// width 1 ... a tree of size 256 will be represented by a full level 0
    /// tile and a partial level 1 tile of width 1."
    @Test func theTilesOfATreeAreTheSpecsExamples() {
        let tiles = Tile.tiles(forTreeSize: 70_000)
        #expect(tiles.filter { $0.level == 0 && !$0.isPartial }.count == 273)
        #expect(tiles.filter { $0.isPartial }.map { [$0.level, $0.width] } == [[0, 112], [1, 17], [2, 1]])
        #expect(tiles.filter { $0.level == 1 && !$0.isPartial }.count == 1)
        #expect(tiles.count == 273 + 1 + 1 + 1 + 1)
        #expect(Tile.tiles(forTreeSize: 256).map(\.path) == ["tile/0/000", "tile/1/000.p/1"])
        #expect(Tile.tiles(forTreeSize: 0).isEmpty)
    }

    @Test func anEntryBundleHoldsLengthPrefixedEntriesThatHashToTheLevelZeroTile() throws {
        var tree = MerkleTree()
        let entries = (0..<300).map { Array("entry \($0)".utf8) }
        for entry in entries { tree.append(entry) }
        let bundle = try #require(tree.data(of: Tile(kind: .entries, index: 1, width: 44)!) { entries[$0] })
        let hashes = try #require(tree.data(of: Tile(kind: .hashes(level: 0), index: 1, width: 44)!) { entries[$0] })
        var offset = 0
        var decoded: [[UInt8]] = []
        while offset < bundle.count {
            let length = Int(bundle[offset]) << 8 | Int(bundle[offset + 1])
            decoded.append(Array(bundle[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        #expect(decoded == Array(entries[256..<300]))
        #expect(Tile.entries(inBundle: bundle) == decoded, "the reader agrees with the spec's framing, decoded by hand above")
        #expect(Tile.entries(inBundle: Array(bundle.dropLast())) == nil, "the last entry cut short")
        #expect(Tile.entries(inBundle: bundle + [0]) == nil, "half a length")
        #expect(Tile.entries(inBundle: [0, 0, 0, 1, 7]) == [[], [7]], "an empty entry is an entry")
        #expect(decoded.flatMap { MerkleHash.leaf($0).bytes } == hashes)
        #expect(tree.data(of: Tile(kind: .hashes(level: 0), index: 1, width: 45)!) { entries[$0] } == nil, "beyond the tree")
        #expect(tree.data(of: Tile(kind: .entries, index: 0)!) { _ in [1] } == nil, "entries that do not hash to the tree")
    }
}
