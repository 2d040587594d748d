/// The bookkeeping shared by callers and the network thread, always used
/// under `MosquittoConnection.state`'s lock.
///
/// libmosquitto can acknowledge a message id before the publishing thread has
/// filed its waiter (the PUBACK races the return from `mosquitto_publish`),
/// so acknowledgements that find no waiter are parked in `early…` and claimed
/// when the waiter arrives. No lock is held across a libmosquitto call.
struct ConnectionBook: ~Copyable {
    enum Waiter {
        case publish(CheckedContinuation<Void, any Error>, topic: String)
        case subscribe(CheckedContinuation<Void, any Error>, filter: String)
        case unsubscribe(CheckedContinuation<Void, any Error>)

        func fail(_ error: any Error) {
            switch self {
            case let .publish(continuation, _), let .subscribe(continuation, _), let .unsubscribe(continuation):
                continuation.resume(throwing: error)
            }
        }
    }

    /// An acknowledgement: 0 for success, otherwise an MQTT reason code.
    typealias Outcome = Int32

    var thread: pthread_t?
    /// The kernel's id of the network thread (for /proc/self/task checks).
    var threadID: pid_t?
    var threadNeedsConnect = false
    var hasConnectedOnce = false
    var connected = false
    var closed = false
    var connectWaiter: CheckedContinuation<Void, any Error>?
    var lastRefusal: String?
    var lastErrorLog: String?
    var lastReportedDown: String?
    /// Maximum packet size announced by an MQTT 5 broker in CONNACK.
    var brokerMaximumPacketSize: Int?
    /// Filters to subscribe again after a reconnect without a session.
    var subscriptions: [String: QoS] = [:]

    var waiters: [Int32: Waiter] = [:]
    var early: [Int32: Outcome] = [:]
    /// Message ids whose acknowledgement nobody will claim (a cancelled wait,
    /// a subscription renewed after reconnect): dropped when it arrives, so a
    /// reused id never inherits a stale outcome.
    var abandoned: Set<Int32> = []

    /// Connections lost so far. libmosquitto sends QoS 1/2 publishes again
    /// after a reconnect, but a QoS 0 publish, a SUBSCRIBE or an UNSUBSCRIBE
    /// that was not yet answered is gone with the connection: nothing will
    /// ever complete its wait. Those waits are `forgettable` and end with
    /// `notConnected` when the connection drops (a test aggregator's ack
    /// loop, waiting on such a QoS 0 publish, stopped acknowledging for good).
    var connectionLosses: UInt64 = 0
    /// Waiters libmosquitto forgets on a lost connection, by message id.
    var forgettable: Set<Int32> = []

    /// The outcome `file` returns for a wait the connection took with it.
    static let lostWithConnection: Outcome = -2

    /// Files `waiter` for `mid`, or returns the outcome that already arrived.
    /// `forgettableSince`: for a wait libmosquitto forgets on a lost
    /// connection, `connectionLosses` before its packet was queued; when a
    /// connection was lost since and no answer came, it never will.
    mutating func file(_ waiter: Waiter, for mid: Int32, forgettableSince losses: UInt64? = nil) -> Outcome? {
        if let outcome = early.removeValue(forKey: mid) { return outcome }
        if let losses {
            if losses != connectionLosses { return Self.lostWithConnection }
            forgettable.insert(mid)
        }
        waiters[mid] = waiter
        return nil
    }

    /// The connection dropped: takes the waits nothing will complete now.
    mutating func connectionLost() -> [Waiter] {
        connectionLosses &+= 1
        var lost: [Waiter] = []
        for mid in forgettable {
            if let waiter = waiters.removeValue(forKey: mid) {
                lost.append(waiter)
            } else {
                abandoned.remove(mid) // a cancelled wait: no answer will come to drop
            }
        }
        forgettable.removeAll()
        return lost
    }

    /// Takes the waiter for `mid`, or parks the outcome until it is filed.
    mutating func complete(mid: Int32, outcome: Outcome) -> Waiter? {
        forgettable.remove(mid)
        if let waiter = waiters.removeValue(forKey: mid) { return waiter }
        if abandoned.remove(mid) != nil { return nil }
        early[mid] = outcome
        return nil
    }

    mutating func takeAllWaiters() -> [Waiter] {
        var all = Array(waiters.values)
        waiters.removeAll()
        forgettable.removeAll()
        early.removeAll()
        abandoned.removeAll()
        if let connectWaiter {
            all.append(.unsubscribe(connectWaiter))
            self.connectWaiter = nil
        }
        return all
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
