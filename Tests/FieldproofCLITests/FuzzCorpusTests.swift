import Foundation
import Testing
import TestSupport

/// The committed fuzz corpus (and any crash reproducer added to it) replays
/// without a crash through the same checks the fuzzer runs.
@Suite struct FuzzCorpusTests {
    @Test func theCorpusReplaysCleanly() async throws {
        let binary = try #require(ProjectPaths.product("fieldproof-fuzz"), "fieldproof-fuzz must be built next to the tests")
        let corpus = ProjectPaths.root.appendingPathComponent("Fuzz/corpus")
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).sorted().map { corpus.appendingPathComponent($0).path }
        #expect(files.count >= 6)
        let result = try await ProcessRunner.run(binary.path, files)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("replayed \(files.count) input(s): no crash"))
    }
}
