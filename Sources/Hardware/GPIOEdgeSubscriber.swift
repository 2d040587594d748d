/// What `GPIOEdgeWatcher` drives: a driver that counts a line's edges
/// (`PulseCounter`). The watcher calls `drainPendingEdges` whenever the
/// line may have events; the driver takes them without blocking.
public protocol GPIOEdgeSubscriber: AnyObject, Sendable {
    /// The line's event file descriptor, for poll(2); nil when the line has
    /// none (a simulated line) or is failing, so it is swept on a timer instead.
    var edgeFileDescriptor: Int32? { get }
    /// Takes the events the line holds now, without waiting.
    func drainPendingEdges()
}
