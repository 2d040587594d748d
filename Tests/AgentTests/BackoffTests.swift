import LinuxService
import Synchronization
import Testing

struct BackoffTests {
    @Test func delaysGrowExponentiallyAndStopAtTheCap() {
        var backoff = Backoff(initialDelay: .milliseconds(100), maximumDelay: .seconds(2), multiplier: 2, jitter: 0)
        let delays = (0..<8).map { _ in backoff.nextDelay() }
        #expect(delays == [100, 200, 400, 800, 1600, 2000, 2000, 2000].map { Duration.milliseconds($0) })
        backoff.reset()
        #expect(backoff.nextDelay() == .milliseconds(100))
    }

    @Test func jitterSpreadsDelaysWithinTheBand() {
        var seen = Set<Duration>()
        for _ in 0..<200 {
            var backoff = Backoff(initialDelay: .seconds(1), maximumDelay: .seconds(60), multiplier: 2, jitter: 0.25)
            let delay = backoff.nextDelay()
            #expect(delay >= .milliseconds(750) && delay <= .milliseconds(1250))
            seen.insert(delay)
        }
        #expect(seen.count > 20, "jitter must actually vary the delay")
    }

    @Test func nonsenseSettingsAreClampedInsteadOfTrusted() {
        var backoff = Backoff(initialDelay: .seconds(2), maximumDelay: .seconds(1), multiplier: .nan, jitter: 7)
        #expect(backoff.maximumDelay == .seconds(2))
        #expect(backoff.multiplier == 1)
        #expect(backoff.jitter == 1)
        #expect(backoff.nextDelay() <= .seconds(2))
    }

    @Test func aFailingOperationIsTriedAgainUntilItSucceeds() async {
        let tries = Mutex(0)
        let failures = Mutex<[String]>([])
        struct Down: Error {}
        let result = await retryingUntilCancelled(backoff: Backoff(initialDelay: .milliseconds(1), maximumDelay: .milliseconds(4)),
                                                  failed: { error in failures.withLock { $0.append("\(error)") } }) { () async throws -> String in
            let attempt = tries.withLock { $0 += 1; return $0 }
            if attempt < 4 { throw Down() }
            return "stored on try \(attempt)"
        }
        #expect(result == "stored on try 4")
        #expect(failures.withLock { $0.count } == 3)
    }

    @Test func cancellingEndsTheRetriesWithNil() async {
        struct Down: Error {}
        let task = Task {
            await retryingUntilCancelled(backoff: Backoff(initialDelay: .milliseconds(5), maximumDelay: .milliseconds(5)), failed: { _ in }) { () async throws -> Int in
                throw Down()
            }
        }
        task.cancel()
        #expect(await task.value == nil)
    }
}
