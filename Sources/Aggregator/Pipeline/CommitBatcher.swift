import Foundation
import Logging
import LinuxService

/// Group commit: accepted messages wait here while a commit is running and
/// go into the next one together, so the store flushes to disk once per
/// batch instead of once per message. There is no timer: an idle store
/// commits a lone message at once, a busy one gets bigger batches.
///
/// A failed batch is retried one message at a time (with backoff), so one
/// message the store keeps refusing holds up only itself, and only for
/// `maximumTries` tries: then it goes to the store's dead-letter table
/// (bytes, error, tries; its sequence counts as settled) and the stream
/// goes on. After the bound each round tries the commit again first, so a
/// store that was down (where the dead-letter write fails too) commits the
/// message once it is back rather than dead-lettering it.
actor CommitBatcher<Committer: MessageCommitter> {
    typealias Waiter = CheckedContinuation<CommitResult?, Never>

    private let committer: Committer
    private let maximumBatch: Int
    private let maximumTries: Int
    private let firstDelay: Duration
    private let logger: Logger
    private var waiting: [(message: Committer.Accepted, waiter: Waiter)] = []
    private var running = 0
    /// (serial, sequence) of the messages in running batches.
    private var inFlight: [Key: Int] = [:]
    private var stopped = false

    init(committer: Committer, maximumBatch: Int, maximumTries: Int = 5, firstDelay: Duration = .milliseconds(50), logger: Logger) {
        self.committer = committer
        self.maximumBatch = max(1, maximumBatch)
        self.maximumTries = max(1, maximumTries)
        self.firstDelay = firstDelay
        self.logger = logger
    }

    /// The commit's result, or nil when the pipeline stopped before the
    /// store took the message (it stays unacknowledged and is re-sent).
    /// `queued` runs once the message is in the queue (before any later
    /// call can queue another).
    func commit(_ message: Committer.Accepted, queued: @Sendable () -> Void = {}) async -> CommitResult? {
        await withCheckedContinuation { waiter in
            waiting.append((message, waiter))
            queued()
            startBatches()
        }
    }

    /// Stops retrying; waiting and failing messages get nil.
    func stop() {
        stopped = true
        let abandoned = waiting
        waiting.removeAll()
        for entry in abandoned { entry.waiter.resume(returning: nil) }
    }

    struct Key: Hashable {
        var serial: String
        var sequence: UInt64
    }

    /// With several batches at once (PostgreSQL), a message whose (serial,
    /// sequence) is in a running batch waits for that batch: two copies of
    /// one sequence are then committed in the order they came, so the first
    /// is stored and a later one with other bytes is the `conflict`, never
    /// the other way round.
    private func startBatches() {
        while running < max(1, committer.parallelCommits), !waiting.isEmpty {
            var batch: [(message: Committer.Accepted, waiter: Waiter)] = []
            var held: [(message: Committer.Accepted, waiter: Waiter)] = []
            for entry in waiting {
                if batch.count < maximumBatch, inFlight[Key(serial: entry.message.serial, sequence: entry.message.sequence)] == nil {
                    batch.append(entry)
                } else {
                    held.append(entry)
                }
            }
            guard !batch.isEmpty else { return }
            waiting = held
            for entry in batch { inFlight[Key(serial: entry.message.serial, sequence: entry.message.sequence), default: 0] += 1 }
            running += 1
            Task { [batch] in
                let results = await self.commitOrRetry(batch.map(\.message))
                self.finish(batch, with: results)
            }
        }
    }

    private func finish(_ batch: [(message: Committer.Accepted, waiter: Waiter)], with results: [CommitResult?]) {
        for (entry, result) in zip(batch, results) { entry.waiter.resume(returning: result) }
        for entry in batch {
            let key = Key(serial: entry.message.serial, sequence: entry.message.sequence)
            if let count = inFlight[key], count > 1 { inFlight[key] = count - 1 } else { inFlight[key] = nil }
        }
        running -= 1
        if !stopped { startBatches() }
    }

    private func commitOrRetry(_ messages: [Committer.Accepted]) async -> [CommitResult?] {
        do {
            return try await committer.commit(batch: messages)
        } catch {
            logger.warning("store failed; retrying one message at a time", metadata: ["messages": "\(messages.count)", "reason": "\(error)"])
        }
        var results: [CommitResult?] = []
        for message in messages {
            results.append(await commitAlone(message))
        }
        return results
    }

    /// One message on its own: committed, or dead-lettered after
    /// `maximumTries` failures; nil only when stopped.
    private func commitAlone(_ message: Committer.Accepted) async -> CommitResult? {
        var backoff = Backoff(initialDelay: firstDelay, maximumDelay: .seconds(5))
        var tries = 0
        var lastError = ""
        while !stopped {
            do {
                guard let result = try await committer.commit(batch: [message]).first else { throw NoCommitResult() }
                return result
            } catch {
                tries += 1
                lastError = "\(error)"
                logger.warning("store failed; retrying", metadata: ["message": "\(message.serial)/\(message.sequence)", "tries": "\(tries)",
                                                                   "reason": "\(error)"])
            }
            if tries >= maximumTries {
                do {
                    if let result = try await committer.deadLetter(message, error: lastError, tries: tries,
                                                                   at: Int64(WallClock.milliseconds())) {
                        logger.error("message dead-lettered", metadata: ["message": "\(message.serial)/\(message.sequence)", "tries": "\(tries)",
                                                                         "reason": "\(lastError)"])
                        return result
                    }
                } catch {
                    logger.warning("could not dead-letter; retrying", metadata: ["message": "\(message.serial)/\(message.sequence)",
                                                                                  "reason": "\(error)"])
                }
            }
            try? await Task.sleep(for: backoff.nextDelay())
        }
        return nil
    }
}

struct NoCommitResult: Error, CustomStringConvertible {
    var description: String { "the store returned no result" }
}
