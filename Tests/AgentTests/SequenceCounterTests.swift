import Foundation
@testable import Agent
import Testing

@Suite struct SequenceCounterTests {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("seq-\(UUID().uuidString.prefix(8))").path

    @Test func startsAtOneAndCounts() throws {
        let counter = try SequenceCounter(path: path, blockSize: 10)
        #expect(try (0..<25).map { _ in try counter.take() } == (1...25).map(UInt64.init))
    }

    /// A counter abandoned without any shutdown (as after kill -9) never
    /// lets the next run reuse a number it may have handed out.
    @Test func neverReusesAfterAnAbruptEnd() throws {
        var handedOut: [UInt64] = []
        for _ in 0..<5 {
            let counter = try SequenceCounter(path: path, blockSize: 8)
            for _ in 0..<Int.random(in: 1...20) { handedOut.append(try counter.take()) }
        }
        #expect(Set(handedOut).count == handedOut.count)
        #expect(handedOut == handedOut.sorted())
    }

    /// After pairing, a wiped counter continues above what the aggregator
    /// holds; a counter already past it is never lowered.
    @Test func continuesAboveWhatTheAggregatorHolds() throws {
        try SequenceCounter.continueAbove(977, path: path)
        #expect(try SequenceCounter(path: path).take() == 978)
        try SequenceCounter.continueAbove(5, path: path)
        #expect(try SequenceCounter(path: path).peek >= 978)
        #expect(throws: (any Error).self) { try SequenceCounter.continueAbove(.max, path: path) }
    }

    @Test func persistsOneBlockAhead() throws {
        let counter = try SequenceCounter(path: path, blockSize: 100)
        _ = try counter.take()
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "101\n")
        let next = try SequenceCounter(path: path, blockSize: 100)
        #expect(try next.take() == 101)
    }

    @Test func aGarbledFileIsRefusedWithAFix() throws {
        try "banana".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try SequenceCounter(path: path)
        } throws: { error in
            String(describing: error).contains(path) && String(describing: error).contains("never lower it")
        }
    }
}
