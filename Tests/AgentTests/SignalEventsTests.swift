import LinuxService
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SignalEventsTests {
    @Test func hangUpArrivesAsAnEventInsteadOfKillingTheProcess() async throws {
        let signals = SignalEvents()
        var iterator = signals.events.makeAsyncIterator()
        kill(getpid(), SIGHUP)
        #expect(await iterator.next() == .hangUp)
    }
}
