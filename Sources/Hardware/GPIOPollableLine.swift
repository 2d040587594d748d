/// An input line whose edge events can be waited for with poll(2) on a file
/// descriptor, so one thread can wait for every edge line at once
/// (`GPIOEdgeWatcher`). The Linux back-end has one per line requested with
/// an edge; a simulated line has none.
public protocol GPIOPollableLine: GPIOInputLine {
    /// The event file descriptor; negative when the line has none (no edge
    /// requested) or was released.
    var eventFileDescriptor: Int32 { get }
}
