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

    /// A store keeps each append's hashes with the entry that added them:
    /// every stored position names that entry, and is found at its level.
    @Test func eachStoredHashIsFoundWithTheEntryThatAddedIt() throws {
        var appender = LogAppender.empty
        var rows: [UInt64: [UInt8]] = [:]
        var positions: [StoredPosition: MerkleHash] = [:]
        for index in 0..<300 {
            let added = appender.append(Array("entry \(index)".utf8))
            rows[UInt64(index)] = EntryHashes.encode(added)
            for hash in added { positions[StoredPosition(level: hash.level, index: hash.index)] = hash.hash }
        }
        for (position, hash) in positions {
            let entry = try #require(position.completingEntry)
            #expect(EntryHashes.hash(in: try #require(rows[entry]), level: position.level) == hash, "\(position)")
        }
        #expect(StoredPosition(level: 3, index: 2).completingEntry == 23, "entries 16..<24, closed by 23")
        #expect(EntryHashes.hash(in: try #require(rows[22]), level: 1) == nil, "entry 22 closes no pair")
        #expect(StoredPosition(level: 63, index: 2).completingEntry == nil, "past 64 bits")
        #expect(StoredPosition(level: 64, index: 0).completingEntry == nil)
        #expect(StoredPosition(level: 0, index: .max).completingEntry == nil)
        #expect(EntryHashes.hash(in: [UInt8](repeating: 0, count: 40), level: 1) == nil, "a cut-short row has no second hash")
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
