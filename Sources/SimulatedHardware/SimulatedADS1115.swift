import Synchronization

/// ADS1115 at the register level: pointer register, config (OS bit,
/// MUX, PGA, MODE), conversion result from the voltages set per input,
/// threshold registers at their reset values. A conversion reads as busy
/// (OS = 0) for one config read after it starts.
public final class SimulatedADS1115: SimulatedI2CChip, Sendable {
    struct State {
        var pointer: UInt8 = 0
        var config: UInt16 = 0x8583
        var conversion: Int16 = 0
        var low: UInt16 = 0x8000
        var high: UInt16 = 0x7FFF
        var volts: [Double]
        var busyReads = 0
    }

    private let state: Mutex<State>

    public init(volts: [Double] = [1.25, 0.5, 3.3, 0]) {
        state = Mutex(State(volts: volts + Array(repeating: 0, count: max(0, 4 - volts.count))))
    }

    public func set(volts: Double, channel: Int) { state.withLock { $0.volts[channel] = volts } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard let pointer = bytes.first, pointer <= 3 else { throw .noAcknowledge }
            state.pointer = pointer
            guard bytes.count == 3 else { return }
            let value = UInt16(bytes[1]) << 8 | UInt16(bytes[2])
            switch pointer {
            case 1:
                state.config = value & 0x7FFF
                if value & 0x8000 != 0 { convert(&state) }
            case 2: state.low = value
            case 3: state.high = value
            default: throw .noAcknowledge
            }
        }
    }

    private func convert(_ state: inout State) {
        let mux = Int(state.config >> 12) & 0b111
        let fullScale = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256][Int(state.config >> 9) & 0b111]
        let volts = mux >= 4 ? state.volts[mux - 4] : 0
        let code = (volts / fullScale * 32768).rounded()
        state.conversion = Int16(max(-32768, min(32767, code)))
        state.busyReads = 1
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        state.withLock { state in
            let value: UInt16
            switch state.pointer {
            case 0: value = UInt16(bitPattern: state.conversion)
            case 1:
                let done: UInt16 = state.busyReads > 0 ? 0 : 0x8000
                if state.busyReads > 0 { state.busyReads -= 1 }
                value = state.config | done
            case 2: value = state.low
            default: value = state.high
            }
            return Array([UInt8(value >> 8), UInt8(value & 0xFF)].prefix(count))
        }
    }
}
