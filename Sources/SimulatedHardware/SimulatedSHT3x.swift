import Synchronization

/// SHT3x at the command level: 0x2400 single shot (no clock stretching),
/// 0xF32D status register, 0x3780 serial number; replies as words with CRCs.
public final class SimulatedSHT3x: SimulatedI2CChip, Sendable {
    struct State {
        var celsius: Double
        var humidity: Double
        var reply: [UInt8] = []
        var corruptReplies = 0
    }

    private let state: Mutex<State>

    public init(celsius: Double = 21.5, humidity: Double = 45) {
        state = Mutex(State(celsius: celsius, humidity: humidity))
    }

    public func set(celsius: Double? = nil, humidity: Double? = nil) {
        state.withLock { state in
            if let celsius { state.celsius = celsius }
            if let humidity { state.humidity = humidity }
        }
    }

    public func corruptNextReplies(_ count: Int) { state.withLock { $0.corruptReplies = count } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard bytes.count == 2 else { throw .noAcknowledge }
            let corrupt = state.corruptReplies > 0
            switch (bytes[0], bytes[1]) {
            case (0x24, 0x00), (0x24, 0x0B), (0x24, 0x16):
                state.reply = SensirionWords.encode([
                    SensirionWords.signal(state.celsius, offset: -45, span: 175),
                    SensirionWords.signal(state.humidity, offset: 0, span: 100),
                ], corruptFirstCRC: corrupt)
            case (0x37, 0x80): // read serial number (SHT3x-DIS, clock stretching off)
                state.reply = SensirionWords.encode([0x0B1D, 0x3F21], corruptFirstCRC: corrupt)
            case (0xF3, 0x2D):
                state.reply = SensirionWords.encode([0x8010], corruptFirstCRC: corrupt) // alert pending, reset detected
            default:
                throw .noAcknowledge
            }
            if corrupt { state.corruptReplies -= 1 }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            guard count <= state.reply.count else { throw .noAcknowledge }
            defer { state.reply = [] }
            return Array(state.reply.prefix(count))
        }
    }
}
