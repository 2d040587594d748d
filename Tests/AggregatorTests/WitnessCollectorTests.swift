@testable import Aggregator
import Crypto
import Hummingbird
import Logging
import Synchronization
import Testing
import TransparencyLog

/// The collector against in-process witnesses that make the real
/// witness's decisions: the 409-then-retry path, cosignatures that do not
/// verify, the quorum, a log that shrank or was rewritten, and a witness
/// that never answers. Each cosigned note is checked by
/// `TlogProof.verify`, not by the collector.
@Suite struct WitnessCollectorTests {
    static let origin = "aggregator.example/fieldproof"
    let signer = try! NoteSigner(name: WitnessCollectorTests.origin, key: Curve25519.Signing.PrivateKey())
    let tree = SharedTree()
    let metrics = AggregatorMetrics()

    init() {
        grow(to: 12)
    }

    func grow(to size: Int) {
        tree.withLock { tree in
            while tree.count < size { _ = tree.append(Array("entry \(tree.count)".utf8)) }
        }
    }

    func note(size: Int, of other: MerkleTree? = nil) throws -> String {
        let root = try #require(other?.root(size: size) ?? tree.withLock { $0.root(size: size) })
        return try SignedNote.sign(Checkpoint(origin: Self.origin, size: UInt64(size), root: root).text, by: [signer])
    }

    func double(_ name: String, recorded size: Int? = nil, _ behaviour: WitnessDouble.Behaviour = .honest) throws -> WitnessDouble {
        let held = try size.map { size in Witness.Recorded(size: UInt64(size), root: try #require(tree.withLock { $0.root(size: size) }).base64) }
        return try WitnessDouble(name: name, origin: Self.origin, log: signer.verifier, recorded: held, behaviour: behaviour)
    }

    func collector(_ witnesses: [WitnessDouble], quorum: Int, timeout: Duration = .seconds(5)) throws -> WitnessCollector {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let tree = self.tree
        return try WitnessCollector(witnesses: witnesses.map(\.endpoint), quorum: quorum, timeout: timeout, log: signer.verifier,
                                    transport: WitnessRouter(witnesses: witnesses),
                                    proofs: { old, new in tree.withLock { $0.consistencyProof(from: Int(old), to: Int(new)) } },
                                    metrics: metrics, logger: logger, now: { 1_800_000_000_000 })
    }

    /// The witnesses whose cosignatures on `note` verify, by TlogProof's check of a proof of entry 0.
    func cosigners(of note: String?, among witnesses: [WitnessDouble], quorum: Int = 0) throws -> [String] {
        let note = try #require(note)
        let size = Int(try Checkpoint(text: try SignedNote.open(Array(note.utf8), verifiers: [signer.verifier]).text).size)
        let path = try #require(tree.withLock { $0.inclusionProof(index: 0, size: size) })
        let leaf = tree.withLock { $0.leaves[0] }
        return try TlogProof(index: 0, inclusion: path, checkpoint: note)
            .verify(leaf: leaf, origin: Self.origin, log: [signer.verifier], witnesses: witnesses.map { try $0.trusted() }, quorum: quorum).witnesses
    }

    func count(_ url: String, _ outcome: String) -> Int? {
        let prefix = "fieldproof_witness_requests_total{witness=\"\(url)\",outcome=\"\(outcome)\"} "
        return metrics.render().split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count)) }
    }

    @Test func aWitnessHoldingAnotherSizeAnswers409AndIsAskedOnceMoreFromThatSize() async throws {
        let witness = try double("w1.example", recorded: 5)
        let collector = try collector([witness], quorum: 1)
        let cosigned = await collector.collect(try note(size: 9))
        #expect(witness.requests == [0, 5], "first from 0 (unknown), then from the size its 409 named")
        #expect(try cosigners(of: cosigned, among: [witness], quorum: 1) == ["w1.example"])
        #expect(await collector.status(origin: Self.origin, size: 9).witnesses.first?.cosignedSize == 9)

        // It remembers the size the witness holds: no 409 the next time.
        let grown = await collector.collect(try note(size: 12))
        #expect(witness.requests == [0, 5, 9])
        #expect(try Checkpoint(text: try SignedNote.open(Array(try #require(grown).utf8), verifiers: [signer.verifier]).text).size == 12)
        #expect(count(witness.url, "cosigned") == 2 && count(witness.url, "refused") == 0)
    }

    @Test func aCosignatureThatDoesNotVerifyIsDroppedAndDoesNotCount() async throws {
        let honest = try double("w1.example")
        let tampered = try double("w2.example", .tampered)
        let foreign = try double("w3.example", .foreignKey)
        let strict = try collector([honest, tampered, foreign], quorum: 2)
        #expect(await strict.collect(try note(size: 7)) == nil, "one valid cosignature of the two required")
        let status = await strict.status(origin: Self.origin, size: 7)
        #expect(status.cosignedSize == nil)
        #expect(status.witnesses.map(\.cosignedSize) == [7, nil, nil])
        #expect(status.witnesses[1].lastError?.contains("without a cosignature that verifies under the key of w2.example") == true,
                "\(status.witnesses[1])")
        #expect(count(tampered.url, "invalid") == 1 && count(foreign.url, "invalid") == 1)

        let lenient = try collector([honest, tampered, foreign], quorum: 1)
        let cosigned = try #require(await lenient.collect(try note(size: 8)))
        #expect(try cosigners(of: cosigned, among: [honest, tampered, foreign]) == ["w1.example"])
        #expect(cosigned.split(separator: "\n").filter { $0.hasPrefix("\u{2014} ") }.count == 2, "the log's signature and one cosignature")
    }

    @Test func theQuorumCountsValidCosignaturesAndAWitnessThatReturnsIsAskedAlone() async throws {
        let up1 = try double("w1.example")
        let up2 = try double("w2.example")
        let down = try double("w3.example", .down)
        let collector = try collector([up1, up2, down], quorum: 3)
        let checkpoint = try note(size: 10)
        #expect(await collector.collect(checkpoint) == nil, "two of three")
        var status = await collector.status(origin: Self.origin, size: 10)
        #expect(status.witnesses[2].lastError == "connection refused" && status.witnesses[2].lastAttemptAt == 1_800_000_000_000)
        #expect(count(down.url, "unreachable") == 1)
        await #expect(throws: HTTPError.self) { try await WitnessedLog(log: StaticLog(note: checkpoint), collector: collector).checkpoint() }

        down.behave(.honest)
        let cosigned = await collector.collect(checkpoint)
        #expect(up1.requests.count == 1 && up2.requests.count == 1 && down.requests.count == 2, "only the missing witness asked again")
        #expect(try cosigners(of: cosigned, among: [up1, up2, down], quorum: 3) == ["w1.example", "w2.example", "w3.example"])
        status = await collector.status(origin: Self.origin, size: 10)
        #expect(status.cosignedSize == 10 && status.witnesses[2].lastError == nil)
        #expect(try await WitnessedLog(log: StaticLog(note: checkpoint), collector: collector).checkpoint() == cosigned)
        #expect(await collector.collect(checkpoint) == cosigned && up1.requests.count == 1, "a fully cosigned checkpoint is not sent again")
    }

    @Test func aLogThatShrankOrWasRewrittenIsNotCosigned() async throws {
        let witness = try double("w1.example", recorded: 9)
        let collector = try collector([witness], quorum: 1)
        var truncated = MerkleTree()
        for index in 0..<3 { _ = truncated.append(Array("entry \(index)".utf8)) }
        #expect(await collector.collect(try note(size: 3, of: truncated)) == nil)
        let shrank = await collector.status(origin: Self.origin, size: 3).witnesses[0]
        #expect(shrank.lastError?.hasPrefix("it holds size 9, more than this checkpoint's 3") == true, "\(shrank)")

        var forking = MerkleTree()
        for index in 0..<12 { _ = forking.append(Array((index == 2 ? "forged" : "entry \(index)").utf8)) }
        let forked = forking
        let rewritten = try WitnessCollector(witnesses: [witness.endpoint], quorum: 1, timeout: .seconds(5), log: signer.verifier,
                                             transport: WitnessRouter(witnesses: [witness]),
                                             proofs: { old, new in forked.consistencyProof(from: Int(old), to: Int(new)) },
                                             metrics: metrics, logger: Logger(label: "test"))
        #expect(await rewritten.collect(try note(size: 12, of: forked)) == nil)
        let refused = await rewritten.status(origin: Self.origin, size: 12).witnesses[0]
        #expect(refused.lastError?.hasPrefix("HTTP 422: not consistent") == true, "\(refused)")
        #expect(witness.witness.recorded[Self.origin]?.size == 9)
    }

    @Test func aWitnessThatNeverAnswersTimesOutWithoutHoldingUpTheOthers() async throws {
        let silent = try double("w1.example", .silent)
        let honest = try double("w2.example")
        let collector = try collector([silent, honest], quorum: 1, timeout: .milliseconds(100))
        let started = ContinuousClock.now
        let cosigned = await collector.collect(try note(size: 4))
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(try cosigners(of: cosigned, among: [silent, honest]) == ["w2.example"])
        #expect(await collector.status(origin: Self.origin, size: 4).witnesses[0].lastError == "no answer within 0.1 seconds")
    }

    @Test func aQuorumOutsideOneToTheWitnessCountIsRefused() throws {
        let witness = try double("w1.example")
        #expect(throws: WitnessCollector.SetupError.quorum(2, witnesses: 1)) { try collector([witness], quorum: 2) }
        #expect(throws: WitnessCollector.SetupError.quorum(0, witnesses: 1)) { try collector([witness], quorum: 0) }
    }
}

/// A log that serves one fixed checkpoint.
struct StaticLog: TransparencyLogSource {
    let note: String
    func checkpoint() async throws -> String { note }
    func data(of tile: Tile) async throws -> [UInt8]? { nil }
    func status() async throws -> TransparencyLogStatus { TransparencyLogStatus(origin: WitnessCollectorTests.origin, size: 0) }
    func proof(serial: String, sequence: UInt64, against note: String) async throws -> TlogProof? { nil }
}

/// The test log's tree, shared with the collector's proof closure.
final class SharedTree: Sendable {
    private let tree = Mutex(MerkleTree())

    func withLock<Result>(_ body: (inout MerkleTree) -> Result) -> Result {
        tree.withLock { body(&$0) }
    }
}
