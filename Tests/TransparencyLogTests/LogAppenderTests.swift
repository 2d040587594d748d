import Testing
@testable import TransparencyLog

/// The appender a store uses must grow the same tree as `MerkleTree`,
/// writing each stored hash once, from nothing but the frontier.
@Suite struct LogAppenderTests {
    @Test func appendingFromTheFrontierGrowsTheSameTree() throws {
        var tree = MerkleTree()
        var stored: [String: MerkleHash] = [:]
        var appender = LogAppender.empty
        for index in 0..<300 {
            let entry = Array("entry \(index)".utf8)
            tree.append(entry)
            // Resume from the store's view every few entries, as a new batch would.
            if index % 7 == 0 {
                let frontier = LogAppender.frontierPositions(size: appender.size).map { stored["\($0.level)/\($0.index)"]! }
                appender = try #require(LogAppender(size: appender.size, frontier: frontier))
            }
            for added in appender.append(entry) {
                #expect(stored["\(added.level)/\(added.index)"] == nil, "each stored hash is written once")
                stored["\(added.level)/\(added.index)"] = added.hash
                let width = 1 << added.level
                #expect(tree.hash(of: Int(added.index) * width..<(Int(added.index) + 1) * width) == added.hash)
            }
            #expect(appender.root == tree.root(size: tree.count), "root of \(tree.count)")
        }
        #expect(stored.count == 300 * 2 - 300.nonzeroBitCount, "n leaves, n - popcount(n) parents")
    }

    @Test func aFrontierOfTheWrongShapeIsRefused() {
        #expect(LogAppender(size: 6, frontier: [.emptyTree]) == nil, "6 = 4 + 2 needs two")
        #expect(LogAppender(size: 6, frontier: [.emptyTree, .emptyTree]) != nil)
        #expect(LogAppender.frontierPositions(size: 6).map { [$0.level, Int($0.index)] } == [[2, 0], [1, 2]])
        #expect(LogAppender.empty.root == .emptyTree)
    }
}

/// Proofs read from stored hashes, as a store serves them, equal the
/// in-memory tree's, and read only a few hashes.
@Suite struct StoredTreeProofsTests {
    final class Storage: @unchecked Sendable {
        var hashes: [String: MerkleHash] = [:]
        var reads = 0
    }

    @Test func proofsFromStoredHashesAreTheTreesProofs() async throws {
        var tree = MerkleTree()
        var appender = LogAppender.empty
        let storage = Storage()
        for index in 0..<100 {
            let entry = Array("entry \(index)".utf8)
            tree.append(entry)
            for added in appender.append(entry) { storage.hashes["\(added.level)/\(added.index)"] = added.hash }
        }
        for size in [1, 2, 3, 7, 8, 64, 65, 99, 100] {
            let proofs = StoredTreeProofs(size: UInt64(size)) { level, index in
                storage.reads += 1
                return storage.hashes["\(level)/\(index)"]!
            }
            #expect(try await proofs.root() == tree.root(size: size))
            for index in [0, size / 2, size - 1] {
                storage.reads = 0
                #expect(try await proofs.inclusionProof(index: UInt64(index)) == tree.inclusionProof(index: index, size: size))
                #expect(storage.reads <= 2 * 7 + 2, "about log2(n) stored hashes, read \(storage.reads)")
            }
            for old in [1, size / 3 + 1, size - 1, size] where old >= 1 {
                #expect(try await proofs.consistencyProof(from: UInt64(old)) == tree.consistencyProof(from: old, to: size), "\(old) -> \(size)")
            }
            #expect(try await proofs.inclusionProof(index: UInt64(size)) == nil)
            #expect(try await proofs.consistencyProof(from: UInt64(size) + 1) == nil)
        }
    }
}
