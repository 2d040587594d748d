import Crypto
import Foundation
import Testing
import TestSupport
@testable import TransparencyLog

/// Our tree, proofs and signed checkpoint, checked by Go's
/// golang.org/x/mod/sumdb/note and sumdb/tlog (scripts/interop/tlog_check.go;
/// Debian's golang-go and golang-golang-x-mod-dev, installed by
/// scripts/install-deps): note.Open must accept the checkpoint under our
/// verifier key, Go's tree must have our roots, tlog.CheckRecord and
/// CheckTree must accept our proofs, and Go's own proofs must be ours byte
/// for byte.
@Suite struct TransparencyLogInteropTests {
    static var available: Bool { GoTlogCheck.isAvailable }
    static let inCI = ProcessInfo.processInfo.environment["CI"] != nil

    @Test(.enabled(if: available || inCI, "Go with golang.org/x/mod is not installed (scripts/install-deps installs golang-go and golang-golang-x-mod-dev)"))
    func goAcceptsOurCheckpointRootsAndProofs() async throws {
        var tree = MerkleTree()
        var entries: [[UInt8]] = []
        for index in 0..<70 {
            // Entries of every length 0...69, like signed messages of different sizes.
            let entry = (0..<index).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) }
            entries.append(entry)
            tree.append(entry)
        }
        let signer = try NoteSigner(name: "fieldproof.example/log", key: Curve25519.Signing.PrivateKey())
        let checkpoint = Checkpoint(origin: "fieldproof.example/log", size: UInt64(tree.count), root: tree.root(size: tree.count)!)
        let note = try SignedNote.sign(checkpoint.text, by: [signer])

        var roots: [String: String] = [:]
        // From 1: for the empty tree Go's tlog gives 32 zero bytes; RFC 6962 (and we) SHA-256 of nothing.
        for size in 1...tree.count { roots[String(size)] = tree.root(size: size)!.base64 }
        var inclusion: [[String: Any]] = []
        var consistency: [[String: Any]] = []
        for size in [1, 2, 3, 7, 8, 9, 31, 32, 33, 64, 69, 70] {
            for index in Set([0, size / 2, size - 1]) {
                inclusion.append(["index": index, "size": size, "proof": tree.inclusionProof(index: index, size: size)!.map(\.base64)])
            }
            for old in Set([1, size / 3 + 1, size - 1, size]) where old >= 1 && old <= size {
                consistency.append(["old": old, "new": size, "proof": tree.consistencyProof(from: old, to: size)!.map(\.base64)])
            }
        }
        // A tree past one full level-1 tile: level-0, level-1 and level-2 tiles, full and partial.
        var tiled = MerkleTree()
        var tiledEntries: [[UInt8]] = []
        for index in 0..<(256 * 256 + 300) {
            let entry = Array("entry \(index)".utf8)
            tiledEntries.append(entry)
            tiled.append(entry)
        }
        let tiles = Tile.tiles(forTreeSize: UInt64(tiled.count))
        let sampled = tiles.filter { $0.level > 0 || $0.isPartial || $0.index % 64 == 0 }
        let tileData: [[String: Any]] = sampled.map { tile in
            ["level": tile.level, "index": tile.index, "width": tile.width, "data": Data(tiled.data(of: tile) { tiledEntries[$0] }!).base64EncodedString()]
        }
        let input: [String: Any] = [
            "verifierKey": signer.verifier.verifierKey, "checkpoint": note, "roots": roots,
            "leaves": entries.map { $0.map { String(format: "%02x", $0) }.joined() },
            "inclusion": inclusion, "consistency": consistency,
        ]
        let tileInput: [String: Any] = [
            "verifierKey": signer.verifier.verifierKey,
            "checkpoint": try SignedNote.sign(Checkpoint(origin: "fieldproof.example/log", size: UInt64(tiled.count), root: tiled.root(size: tiled.count)!).text, by: [signer]),
            "roots": [String(tiled.count): tiled.root(size: tiled.count)!.base64],
            "leaves": tiledEntries.map { $0.map { String(format: "%02x", $0) }.joined() },
            "tiles": tileData,
        ]
        let result = try await GoTlogCheck.run(input)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("ok: checkpoint, 70 roots"), "\(result.output)")
        let tileResult = try await GoTlogCheck.run(tileInput)
        #expect(tileResult.status == 0, "\(tileResult.output)")
        #expect(tileResult.output.contains(", \(sampled.count) tiles"), "\(tileResult.output)")
        #expect(sampled.contains { $0.level == 2 } && sampled.contains { $0.level == 1 && $0.isPartial })
    }
}
