import Aggregator
import AggregatorStore
import Foundation
import Testing
import TestSupport

/// An aggregator starting beside others on one PostgreSQL sets the schema
/// up only when its release has not: the statements are idempotent, but
/// `ALTER TABLE … IF NOT EXISTS` and `CREATE INDEX IF NOT EXISTS` still take
/// their tables' locks, and run at every start they waited on (and once
/// deadlocked with) an aggregator already committing.
@Suite struct PostgresSchemaTests {
    let calendar = EpochCalendar(length: .seconds(3600), grace: .seconds(300))

    @Test func aSecondStartIsNotHeldUpByCommitsInProgress() async throws {
        let server = try await PostgresServer.started()
        defer { server.stop() }
        let first = try await PostgresStore(url: server.url, calendar: calendar)
        defer { first.close() }
        // Another session holds what a commit holds on the message table for 6 s.
        let holder = Task {
            try await ProcessRunner.run("/usr/bin/psql", [server.url, "-v", "ON_ERROR_STOP=1", "-c",
                                                           "BEGIN; LOCK TABLE message IN ROW EXCLUSIVE MODE; SELECT pg_sleep(6); COMMIT;"])
        }
        try await Task.sleep(for: .milliseconds(800)) // the lock is taken
        let started = ContinuousClock.now
        let second = try await PostgresStore(url: server.url, calendar: calendar)
        defer { second.close() }
        #expect(ContinuousClock.now - started < .seconds(4), "the second store opened without waiting for the lock")
        #expect(try await holder.value.status == 0)
    }
}
