#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The queue between libmosquitto's network thread (producer) and the one
/// consumer of `MQTTClient.messages`.
///
/// With a `limit`, a full queue blocks the network thread: it stops reading
/// the socket, TCP pushes back, and the broker queues for us (the project's
/// broker config allows a large queue). That is back-pressure instead of
/// unbounded memory. The cost: while blocked, the thread sends no PINGREQ,
/// so a consumer must not stall for longer than the keep-alive.
final class MessageQueue: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var spaceAvailable = pthread_cond_t()
    private var buffer: [MQTTMessage] = []
    private var head = 0
    private var waiter: CheckedContinuation<MQTTMessage?, Never>?
    private var finished = false
    let limit: Int?

    init(limit: Int?) {
        self.limit = limit.map { max(1, $0) }
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&spaceAvailable, nil)
    }

    deinit {
        pthread_cond_destroy(&spaceAvailable)
        pthread_mutex_destroy(&mutex)
    }

    private var count: Int { buffer.count - head }

    /// Called on the network thread; blocks while the queue is full.
    func push(_ message: MQTTMessage) {
        pthread_mutex_lock(&mutex)
        while let limit, count >= limit, !finished, waiter == nil {
            pthread_cond_wait(&spaceAvailable, &mutex)
        }
        // A waiting consumer means the queue is empty (it waits only then):
        // hand the message over directly. Checked after the wait, since the
        // consumer may have emptied the queue and started waiting meanwhile.
        if let waiter {
            self.waiter = nil
            pthread_mutex_unlock(&mutex)
            waiter.resume(returning: message)
            return
        }
        if !finished { buffer.append(message) }
        pthread_mutex_unlock(&mutex)
    }

    func next() async -> MQTTMessage? {
        pthread_mutex_lock(&mutex)
        if count > 0 {
            let message = buffer[head]
            head += 1
            if head > 1024 && head * 2 > buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            pthread_cond_signal(&spaceAvailable)
            pthread_mutex_unlock(&mutex)
            return message
        }
        if finished {
            pthread_mutex_unlock(&mutex)
            return nil
        }
        return await withCheckedContinuation { continuation in
            // Still holding the lock: no push can slip between the check and this.
            waiter = continuation
            pthread_mutex_unlock(&mutex)
        }
    }

    /// Ends the stream: the consumer gets what is queued, then nil; a
    /// blocked producer is released.
    func finish() {
        pthread_mutex_lock(&mutex)
        finished = true
        let waiting = waiter
        waiter = nil
        pthread_cond_broadcast(&spaceAvailable)
        pthread_mutex_unlock(&mutex)
        waiting?.resume(returning: nil)
    }

    var depth: Int {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return count
    }
}

/// Messages from every subscription, in the order the broker sent them.
/// One consumer; iterating again continues where the last one stopped.
public struct MQTTMessageStream: AsyncSequence, Sendable {
    public typealias Element = MQTTMessage
    let queue: MessageQueue

    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: MessageQueue

        public mutating func next() async -> MQTTMessage? {
            await queue.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: queue)
    }

    /// Messages received and not yet consumed.
    public var depth: Int { queue.depth }
}
