import Synchronization

/// INA260 at the register level (SBOS656 §8.6): configuration (reset
/// 6127h, RST bit 15), current (1.25 mA per bit, signed), bus voltage
/// (1.25 mV per bit), power (10 mW per bit), mask/enable and alert limit,
/// manufacturer id 5449h and die id 2270h. Other registers NACK.
public final class SimulatedINA260: SimulatedI2CChip, Sendable {
    struct State {
        var volts: Double
        var amperes: Double
        var configuration: UInt16 = 0x6127
        var maskEnable: UInt16 = 0
        var alertLimit: UInt16 = 0
        var registers = WordRegisters()
    }

    private let state: Mutex<State>

    public init(volts: Double = 5.1, amperes: Double = 0.6) {
        state = Mutex(State(volts: volts, amperes: amperes))
    }

    public func set(volts: Double, amperes: Double) { state.withLock { $0.volts = volts; $0.amperes = amperes } }

    public var configuration: UInt16 { state.withLock { $0.configuration } }

    static let known: Set<UInt8> = [0x00, 0x01, 0x02, 0x03, 0x06, 0x07, 0xFE, 0xFF]

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard let (register, value) = try state.registers.write(bytes, known: { Self.known.contains($0) }) else { return }
            switch register {
            case 0x00: state.configuration = value & 0x8000 != 0 ? 0x6127 : value
            case 0x06: state.maskEnable = value
            case 0x07: state.alertLimit = value
            default: throw .noAcknowledge // measurements and ids are read-only
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        state.withLock { state in
            let value: UInt16
            switch state.registers.pointer {
            case 0x00: value = state.configuration
            case 0x01: value = UInt16(bitPattern: Int16(clamping: Int((state.amperes / 0.00125).rounded())))
            case 0x02: value = UInt16(clamping: Int((state.volts / 0.00125).rounded()))
            case 0x03: value = UInt16(clamping: Int((abs(state.volts * state.amperes) / 0.01).rounded()))
            case 0x06: value = state.maskEnable
            case 0x07: value = state.alertLimit
            case 0xFE: value = 0x5449
            default: value = 0x2270
            }
            return WordRegisters.bytes(of: value, count: count)
        }
    }
}
