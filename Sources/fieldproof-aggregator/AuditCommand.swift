import Aggregator
import AggregatorStore
import ArgumentParser
import ConfigFile
import Foundation
import NIOCore
import TransparencyLog

/// `audit`: what anyone can check with no database and no trust in the
/// aggregator (issue 16 item 5). It reads the log as any client does (the
/// checkpoint, then every entry bundle over HTTP), checks the checkpoint's
/// signature (and witness cosignatures), that the entries make its root,
/// every message's signature against the key events in the log itself,
/// then recomputes every tally and compares it with what the API serves.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Re-verify the whole log and recompute every tally from it; exit 1 naming the first difference.",
        discussion: """
            Needs no database: only the aggregator's URLs and its log key (`log verifier-key`).
            Example: fieldproof-aggregator audit --log http://agg:8080/log --api http://agg:8080 \\
                       --log-key 'fieldproof-aggregator/ab12…+1a2b3c4d+AQ…'
            """)

    @Option(help: "The log's base URL (serving checkpoint and tile/…).") var log: String
    @Option(help: "The log's note verifier key, as `log verifier-key` prints it.") var logKey: String
    @Option(help: "The aggregator's base URL whose /api/v1/tallies is compared (default: none, only the log is checked).") var api: String?
    @Option(help: "A witness's cosigner verifier key (repeatable).") var witnessKey: [String] = []
    @Option(help: "How many of the witnesses must have cosigned the checkpoint.") var quorum = 0
    @Option(help: "The aggregator's epoch length (its epoch_length).") var epochLength = "1h"
    @Option(help: "Seconds to wait for each HTTP answer.") var timeout = 30
    @Option(help: "Tallies asked for per page of /api/v1/tallies (1-10000).") var pageSize = PageRequest<TallyKey>.maximumLimit

    func run() async throws {
        let verifier: NoteVerifier
        let witnesses: [TlogProof.TrustedWitness]
        let length: Duration
        do {
            verifier = try NoteVerifier(verifierKey: logKey)
            witnesses = try witnessKey.map { text throws(NoteError) in try TlogProof.TrustedWitness(verifierKey: text) }
            length = try DurationText.parsePositive(epochLength)
        } catch {
            throw ValidationError("\(error)")
        }
        guard quorum >= 0, quorum <= witnesses.count else { throw ValidationError("--quorum \(quorum) needs at least that many --witness-key") }
        guard (1...PageRequest<TallyKey>.maximumLimit).contains(pageSize) else { throw ValidationError("--page-size must be 1-10000") }
        guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
        let fetcher = BoundedFetch(timeout: .seconds(Int64(timeout)))
        do {
            let (checkpoint, audit) = try await replay(fetcher, verifier: verifier, witnesses: witnesses,
                                                       calendar: EpochCalendar(length: length, grace: .zero))
            Output.line("log: \(checkpoint.size) entries (\(audit.messages) messages, \(audit.keyEvents) key events, \(audit.sealedEpochs.count) epoch summaries) under a checkpoint "
                        + "signed by \(verifier.name)\(quorum > 0 ? " and \(quorum)+ witnesses" : ""); every signature holds")
            if let api {
                let served = try await tallies(fetcher, api: api)
                if let difference = LogAudit.difference(recomputed: audit.tallies, served: served) {
                    Output.error("tallies differ: \(difference)")
                    try await fetcher.shutdown()
                    throw ExitCode(1)
                }
                Output.line("tallies: all \(served.count) served tallies follow from the log")
                let scores = audit.quality
                for recomputed in scores {
                    if let difference = LogAudit.difference(recomputed: recomputed, served: try await quality(fetcher, api: api, of: recomputed)) {
                        Output.error("quality scores differ: \(difference)")
                        try await fetcher.shutdown()
                        throw ExitCode(1)
                    }
                }
                Output.line("quality: all \(scores.count) device-epoch quality scores follow from the log and the sensors its pairings declared")
            }
            try await fetcher.shutdown()
        } catch let failure as AuditFailure {
            Output.error(failure.description)
            try await fetcher.shutdown()
            throw ExitCode(1)
        }
    }

    private func replay(_ fetcher: BoundedFetch, verifier: NoteVerifier, witnesses: [TlogProof.TrustedWitness],
                        calendar: EpochCalendar) async throws -> (Checkpoint, LogAudit) {
        let base = Self.base(log)
        let note = try await fetcher.get(base + "/checkpoint", limit: SignedNote.maximumBytes)
        let checkpoint: Checkpoint
        do {
            checkpoint = try TlogProof.verifyCheckpoint(note, origin: verifier.name, log: [verifier], witnesses: witnesses, quorum: quorum).checkpoint
        } catch {
            throw AuditFailure("the checkpoint does not hold: \(error)")
        }
        var audit = LogAudit(aggregatorKey: verifier.publicKey, calendar: calendar)
        var tree = MerkleTree()
        for tile in Tile.tiles(forTreeSize: checkpoint.size) where tile.level == 0 {
            guard let bundleTile = Tile(kind: .entries, index: tile.index, width: tile.width) else { continue }
            // 256 entries of at most 64 KiB each, with their lengths.
            let bundle = try await fetcher.get(base + "/" + bundleTile.path, limit: Tile.width * (2 + Int(UInt16.max)))
            guard let entries = Tile.entries(inBundle: bundle), entries.count == tile.width else {
                throw AuditFailure("\(bundleTile.path) is not an entry bundle of \(tile.width) entries")
            }
            for entry in entries {
                tree.append(entry)
                do { try audit.append(entry) } catch { throw AuditFailure(error.description) }
            }
        }
        guard tree.root(size: tree.count) == checkpoint.root else {
            throw AuditFailure("the \(tree.count) entries served do not make the checkpoint's root: the log serves other entries than it signed")
        }
        return (checkpoint, audit)
    }

    private func tallies(_ fetcher: BoundedFetch, api: String) async throws -> [TallyRow] {
        let base = Self.base(api)
        var rows: [TallyRow] = []
        var cursor: String?
        var seen: Set<String> = []
        var query = CharacterSet.urlQueryAllowed
        query.remove(charactersIn: "+&=")
        repeat {
            let encoded = cursor.map { "&cursor=" + ($0.addingPercentEncoding(withAllowedCharacters: query) ?? $0) } ?? ""
            let url = base + "/api/v1/tallies?limit=\(pageSize)" + encoded
            let (body, next) = try await fetcher.getPage(url, limit: 16 << 20)
            do {
                rows += try JSONDecoder().decode([TallyRow].self, from: Data(body))
            } catch {
                throw AuditFailure("\(url) did not answer with tallies: \(error)")
            }
            // A server that hands out a cursor twice would page forever.
            if let next, !seen.insert(next).inserted { throw AuditFailure("\(base) returned the tally cursor \(next) twice") }
            cursor = next
        } while cursor != nil
        return rows
    }
}

extension AuditCommand {
    /// The quality score the aggregator serves for the device and epoch of
    /// `recomputed` (nil: it serves none).
    private func quality(_ fetcher: BoundedFetch, api: String, of recomputed: DeviceQuality) async throws -> DeviceQuality? {
        let base = Self.base(api)
        let url = base + "/api/v1/devices/\(recomputed.serial)/quality?epoch_start=\(recomputed.epochStart)"
        guard let body = try await fetcher.get(url, limit: 1 << 20, missing: true) else { return nil }
        do { return try JSONDecoder().decode(DeviceQuality.self, from: Data(body)) } catch {
            throw AuditFailure("\(url) did not answer with a quality score: \(error)")
        }
    }
}

extension AuditCommand {
    /// A URL given on the command line, without a trailing slash.
    static func base(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}

struct AuditFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The audit's GETs through `BoundedHTTPClient` (the log being audited may
/// be the attacker), each failure an `AuditFailure` naming the URL.
struct BoundedFetch {
    let client: BoundedHTTPClient

    init(timeout: Duration) {
        client = BoundedHTTPClient(timeout: timeout)
    }

    func get(_ url: String, limit: Int) async throws -> [UInt8] {
        try await getPage(url, limit: limit).body
    }

    /// nil for a 404, with `missing`.
    func get(_ url: String, limit: Int, missing: Bool) async throws -> [UInt8]? {
        try await getPage(url, limit: limit, missing: missing)?.body
    }

    /// The body and the `X-Next-Cursor` of a paged list.
    func getPage(_ url: String, limit: Int) async throws -> (body: [UInt8], next: String?) {
        guard let page = try await getPage(url, limit: limit, missing: false) else { throw AuditFailure("GET \(url): 404") }
        return page
    }

    private func getPage(_ url: String, limit: Int, missing: Bool) async throws -> (body: [UInt8], next: String?)? {
        let answer: BoundedHTTPClient.Answer
        do {
            answer = try await client.get(url, limit: limit)
        } catch is NIOTooManyBytesError {
            throw AuditFailure("\(url): answer larger than \(limit) bytes")
        } catch {
            throw AuditFailure("cannot GET \(url): \(error)")
        }
        if missing, answer.status == 404 { return nil }
        guard answer.status == 200 else {
            throw AuditFailure("GET \(url): \(answer.status) \(String(decoding: answer.body.prefix(200), as: UTF8.self))")
        }
        return (answer.body, answer.headers.first(name: "X-Next-Cursor"))
    }

    func shutdown() async throws {
        try await client.shutdown()
    }
}
