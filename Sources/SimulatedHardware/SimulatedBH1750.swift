import Synchronization

/// BH1750 at the command level: power on/down, reset, one-time and
/// continuous high-resolution modes; a read returns lux × 1.2 as 16 bits.
public final class SimulatedBH1750: SimulatedI2CChip, Sendable {
    struct State {
        var lux: Double
        var poweredOn = false
        var measured: UInt16?
    }

    private let state: Mutex<State>

    public init(lux: Double = 812.5) {
        state = Mutex(State(lux: lux))
    }

    public func set(lux: Double) { state.withLock { $0.lux = lux } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard bytes.count == 1 else { throw .noAcknowledge }
            switch bytes[0] {
            case 0x00: state.poweredOn = false
            case 0x01: state.poweredOn = true
            case 0x07: state.measured = nil
            case 0x10, 0x11, 0x13, 0x20, 0x21, 0x23:
                state.measured = UInt16(max(0, min(65535, (state.lux * 1.2).rounded())))
                if bytes[0] >= 0x20 { state.poweredOn = false } // one-time modes power down afterwards
            default:
                throw .noAcknowledge
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            // Before any measurement the data register reads 0 (it does ACK).
            guard (1...2).contains(count) else { throw .noAcknowledge }
            let value = state.measured ?? 0
            return Array([UInt8(value >> 8), UInt8(value & 0xFF)].prefix(count))
        }
    }
}
