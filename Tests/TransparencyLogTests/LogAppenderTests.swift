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
