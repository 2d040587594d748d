import Synchronization

/// SHT4x at the command level: 0xFD measures (high precision), 0x89 reads
/// the serial number, each reply words with CRCs. Faults: corrupted CRCs
/// for the next N replies.
public final class SimulatedSHT4x: SimulatedI2CChip, Sendable {
    struct State {
        var celsius: Double
        var humidity: Double
        var reply: [UInt8] = []
        var corruptReplies = 0
    }

    private let state: Mutex<State>
    public let serialNumber: UInt32

    public init(celsius: Double = 21.5, humidity: Double = 45, serialNumber: UInt32 = 0x1234_5678) {
        state = Mutex(State(celsius: celsius, humidity: humidity))
        self.serialNumber = serialNumber
    }

    public func set(celsius: Double? = nil, humidity: Double? = nil) {
        state.withLock { if let celsius { $0.celsius = celsius }; if let humidity { $0.humidity = humidity } }
    }

    /// The next `count` replies carry a wrong CRC.
    public func corruptNextReplies(_ count: Int) { state.withLock { $0.corruptReplies = count } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            let corrupt = state.corruptReplies > 0
            switch bytes.first {
            case 0xFD?, 0xF6?, 0xE0?: // high / medium / low precision
                state.reply = SensirionWords.encode([
                    SensirionWords.signal(state.celsius, offset: -45, span: 175),
                    SensirionWords.signal(state.humidity, offset: -6, span: 125),
                ], corruptFirstCRC: corrupt)
            case 0x89?:
                state.reply = SensirionWords.encode([UInt16(serialNumber >> 16), UInt16(serialNumber & 0xFFFF)], corruptFirstCRC: corrupt)
            case 0x94?:
                state.reply = []
                return
            default:
                throw .noAcknowledge
            }
            if corrupt { state.corruptReplies -= 1 }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            guard count <= state.reply.count else { throw .noAcknowledge } // nothing measured: NACK, as the chip does
            defer { state.reply = [] }
            return Array(state.reply.prefix(count))
        }
    }
}
