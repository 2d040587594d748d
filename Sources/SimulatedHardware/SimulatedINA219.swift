import Synchronization

/// INA219 at the register level (SBOS448 §8.6): configuration (reset
/// 399Fh; RST, bit 15, restores it and clears the calibration), shunt
/// voltage (10 µV per bit, ±320 mV at PGA ÷8), bus voltage (bits 15…3 at
/// 4 mV, CNVR bit 1, OVF bit 0), and current and power computed by the chip
/// from the calibration as §8.5.1 gives: Current = Shunt × Cal / 4096, Power
/// = Current × Bus / 5000; both read 0 until a calibration is written.
/// Registers past 05h are not there (NACK).
public final class SimulatedINA219: SimulatedI2CChip, Sendable {
    struct State {
        var volts: Double
        var amperes: Double
        var configuration: UInt16 = 0x399F
        var calibration: UInt16 = 0
        var registers = WordRegisters()
    }

    public let shuntOhms: Double
    private let state: Mutex<State>

    public init(volts: Double = 12.6, amperes: Double = 0.25, shuntOhms: Double = 0.1) {
        self.shuntOhms = shuntOhms
        state = Mutex(State(volts: volts, amperes: amperes))
    }

    public func set(volts: Double, amperes: Double) { state.withLock { $0.volts = volts; $0.amperes = amperes } }

    /// A brown-out: the chip restarts with its reset values.
    public func powerCycle() { state.withLock { $0.configuration = 0x399F; $0.calibration = 0 } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard let (register, value) = try state.registers.write(bytes, known: { $0 <= 0x05 }) else { return }
            switch register {
            case 0x00:
                if value & 0x8000 != 0 {
                    state.configuration = 0x399F
                    state.calibration = 0
                } else {
                    state.configuration = value
                }
            case 0x05: state.calibration = value & 0xFFFE
            default: throw .noAcknowledge // 01h–04h are read-only
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        state.withLock { state in
            let shunt = Int(max(-32000, min(32000, (state.amperes * shuntOhms / 10e-6).rounded())))
            let busCounts = UInt16(max(0, min(8191, (state.volts / 0.004).rounded())))
            let current = shunt * Int(state.calibration) / 4096
            let power = abs(current) * Int(busCounts) / 5000
            let overflow: UInt16 = current > Int(Int16.max) || current < Int(Int16.min) || power > Int(UInt16.max) ? 1 : 0
            let value: UInt16
            switch state.registers.pointer {
            case 0x00: value = state.configuration
            case 0x01: value = UInt16(bitPattern: Int16(shunt))
            case 0x02: value = busCounts << 3 | 0b10 | overflow
            case 0x03: value = UInt16(clamping: power)
            case 0x04: value = UInt16(bitPattern: Int16(clamping: current))
            default: value = state.calibration
            }
            return WordRegisters.bytes(of: value, count: count)
        }
    }
}
