import Synchronization

/// VEML7700 at the register level (datasheet 84286): 16-bit command codes
/// 00h–06h, little-endian (command code, then LSB, MSB; a read is the
/// command code, repeated start, LSB, MSB). ALS counts follow the
/// illuminance through the configured gain and integration time, with the
/// chip's own response: at gain 1/8 and 1/4 it reads low at high light, the
/// inverse of the application note's correction polynomial, so a driver
/// that forgets the correction reads wrong; counts saturate at 65535; in
/// shutdown the last counts stay. Written out again here, apart from the
/// driver's tables.
public final class SimulatedVEML7700: SimulatedI2CChip, Sendable {
    struct State {
        var lux: Double
        var registers: [UInt8: UInt16] = [0x00: 0x0001, 0x01: 0, 0x02: 0, 0x03: 0, 0x04: 0, 0x05: 0, 0x06: 0]
        var pointer: UInt8 = 0
        var configurationWrites = 0
    }

    private let state: Mutex<State>

    public init(lux: Double = 350) {
        state = Mutex(State(lux: lux))
    }

    public func set(lux: Double) { state.withLock { $0.lux = lux; Self.convert(&$0) } }
    public var configuration: UInt16 { state.withLock { $0.registers[0x00] ?? 0 } }
    public var configurationWrites: Int { state.withLock { $0.configurationWrites } }

    /// lx per count: 0.0042 at gain 2, 800 ms (datasheet rev 1.7).
    static func resolution(configuration: UInt16) -> Double? {
        let gain: Double
        switch (configuration >> 11) & 0b11 {
        case 0b00: gain = 1
        case 0b01: gain = 2
        case 0b10: gain = 0.125
        default: gain = 0.25
        }
        let milliseconds: Double
        switch (configuration >> 6) & 0b1111 {
        case 0b1100: milliseconds = 25
        case 0b1000: milliseconds = 50
        case 0b0000: milliseconds = 100
        case 0b0001: milliseconds = 200
        case 0b0010: milliseconds = 400
        case 0b0011: milliseconds = 800
        default: return nil
        }
        return 0.0042 * (2 / gain) * (800 / milliseconds)
    }

    /// What the chip's linear count scale shows for a true illuminance: the
    /// polynomial's inverse (Newton's method; it rises monotonically).
    static func response(_ lux: Double) -> Double {
        func p(_ x: Double) -> Double { 6.0135e-13 * x * x * x * x - 9.3924e-9 * x * x * x + 8.1488e-5 * x * x + 1.0023 * x }
        func dp(_ x: Double) -> Double { 4 * 6.0135e-13 * x * x * x - 3 * 9.3924e-9 * x * x + 2 * 8.1488e-5 * x + 1.0023 }
        var x = lux
        for _ in 0..<60 { x -= (p(x) - lux) / dp(x) }
        return x
    }

    static func convert(_ state: inout State) {
        let configuration = state.registers[0x00] ?? 1
        guard configuration & 1 == 0, let resolution = resolution(configuration: configuration) else { return } // shut down: keeps the last data
        let lowGain = (configuration >> 11) & 0b11 >= 0b10
        let linear = lowGain ? response(max(0, state.lux)) : max(0, state.lux)
        state.registers[0x04] = UInt16(min(65535, (linear / resolution).rounded()))
        state.registers[0x05] = UInt16(min(65535, (linear * 1.6 / resolution).rounded())) // WHITE: a broader band
    }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard let command = bytes.first, command <= 0x06 else { throw .noAcknowledge }
            state.pointer = command
            switch bytes.count {
            case 1: break
            case 3:
                guard [0x00, 0x01, 0x02, 0x03].contains(command) else { throw .noAcknowledge } // 04h–06h are read-only
                state.registers[command] = UInt16(bytes[1]) | UInt16(bytes[2]) << 8
                if command == 0x00 { state.configurationWrites += 1 }
            default: throw .noAcknowledge
            }
            // The simulation has no clock: a conversion with the new settings is done at once.
            Self.convert(&state)
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            guard (1...2).contains(count) else { throw .noAcknowledge }
            let value = state.registers[state.pointer] ?? 0
            return Array([UInt8(value & 0xFF), UInt8(value >> 8)].prefix(count))
        }
    }
}
