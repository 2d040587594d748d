import Foundation
@testable import Agent
import Testing

/// Runs that end abruptly leave gaps in the sequence numbers; the ledger
/// counts them so that signed = last − first + 1 − skipped holds across any
/// number of restarts, including one that ends before taking a number.
@Suite struct SequenceLedgerTests {
    let directory: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ledger-\(UUID().uuidString.prefix(8))").path
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
    var counterPath: String { directory + "/sequence" }
    var ledgerPath: String { SequenceLedger.path(inStateDirectory: directory) }

    /// One run as the daemon does it: account for the start, take `count`
    /// numbers, end without any shutdown. Returns the numbers taken.
    func run(taking count: Int, previous: UInt64) throws -> [UInt64] {
        let counter = try SequenceCounter(path: counterPath, blockSize: 16)
        var ledger = try SequenceLedger.load(path: ledgerPath)
        if ledger.start(previous: previous, next: counter.peek) { try ledger.save(path: ledgerPath) }
        return try (0..<count).map { _ in try counter.take() }
    }

    @Test func signedCountsEveryNumberTakenAcrossAbruptEnds() throws {
        var taken: [UInt64] = []
        for count in [5, 0, 20, 0, 0, 3, 16, 1] {
            taken += try run(taking: count, previous: taken.last ?? 0)
        }
        let ledger = try SequenceLedger.load(path: ledgerPath)
        let last = try #require(taken.last)
        #expect(ledger.first == 1)
        #expect(ledger.signed(upTo: last) == UInt64(taken.count), "\(taken)")
        #expect(ledger.skipped == last - UInt64(taken.count))
        #expect(ledger.skipped > 0, "each restart skipped the rest of a block")
    }

    /// Pairing continued the counter above what the aggregator holds: the
    /// numbers below are an earlier life's, not gaps of this one.
    @Test func aCounterThatStartsAboveOneHasNoGapBelowIt() throws {
        try SequenceCounter.continueAbove(500, path: counterPath)
        let taken = try run(taking: 7, previous: 0)
        #expect(taken.first == 501)
        let ledger = try SequenceLedger.load(path: ledgerPath)
        #expect(ledger.first == 501 && ledger.skipped == 0 && ledger.signed(upTo: 507) == 7)
    }

    @Test func aDamagedLedgerIsAnErrorNamingTheFile() throws {
        try "12 x\n".write(toFile: ledgerPath, atomically: true, encoding: .utf8)
        #expect { try SequenceLedger.load(path: ledgerPath) } throws: { "\($0)".contains(ledgerPath) }
    }
}
