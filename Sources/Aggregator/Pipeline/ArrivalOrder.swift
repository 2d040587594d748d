import Synchronization

/// Keeps the broker's order per topic between verification and the commit
/// queue. Messages are verified several at once and a verification can
/// take longer than the next one (a key lookup), so without this two copies
/// of one (serial, sequence) that came back to back could reach the store
/// in either order; with it the first to arrive is stored and a later one
/// with other bytes is the `sequence_conflict`, whatever the timing.
///
/// Each message takes a ticket as it comes off the stream (in order); after
/// its verification it waits until every earlier message of its topic has
/// passed (been queued for commit, or rejected), then passes itself. Only
/// messages of one topic wait for each other, and the earliest waiting one
/// can always go on, so nothing waits forever.
final class ArrivalOrder: Sendable {
    private struct Topic {
        var issued: UInt64 = 0
        var next: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let topics = Mutex<[String: Topic]>([:])

    /// The next ticket of `topic`; take them in arrival order.
    func ticket(topic: String) -> UInt64 {
        topics.withLock { topics in
            let ticket = topics[topic, default: Topic()].issued
            topics[topic, default: Topic()].issued = ticket + 1
            return ticket
        }
    }

    /// Returns once every earlier ticket of `topic` has passed.
    func wait(topic: String, ticket: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = topics.withLock { topics -> Bool in
                guard let state = topics[topic], state.next != ticket else { return true }
                topics[topic]?.waiters[ticket] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// `ticket` of `topic` has passed: the next one may go on.
    func pass(topic: String) {
        let resumed = topics.withLock { topics -> CheckedContinuation<Void, Never>? in
            guard var state = topics[topic] else { return nil }
            state.next += 1
            let waiter = state.waiters.removeValue(forKey: state.next)
            // Forget a topic with nothing outstanding (memory stays bounded by
            // the topics in flight, not every device ever seen).
            topics[topic] = state.next == state.issued ? nil : state
            return waiter
        }
        resumed?.resume()
    }
}
