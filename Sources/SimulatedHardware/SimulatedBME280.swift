import Synchronization

/// A BME280 (or BMP280) at the register level: chip id, calibration
/// registers, ctrl_hum/ctrl_meas with forced mode, the status "measuring"
/// bit, and data registers holding the raw ADC values that the datasheet's
/// compensation turns into the physical values set here.
///
/// The compensation is written out again here, from the datasheet, rather
/// than borrowed from the driver: a mistake in either shows up in the tests.
public final class SimulatedBME280: SimulatedI2CChip, Sendable {
    public struct Calibration: Sendable {
        var t: (UInt16, Int16, Int16)
        var p: (UInt16, Int16, Int16, Int16, Int16, Int16, Int16, Int16, Int16)
        var h: (UInt8, Int16, UInt8, Int16, Int16, Int8)

        /// T/P trimming from the BMP280 datasheet's computation example;
        /// humidity trimming typical of a production BME280.
        public static let sample = Calibration(
            t: (27504, 26435, -1000),
            p: (36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000),
            h: (75, 362, 0, 324, 50, 30))
    }

    struct State {
        var registers = RegisterFile()
        var celsius: Double
        var humidity: Double
        var hectopascal: Double
        var measuringReads = 0
        var stuckMeasuring = false
        var statusReadsPerMeasurement = 1
    }

    public let isBMP280: Bool
    let calibration: Calibration
    private let state: Mutex<State>

    public init(celsius: Double = 21.5, humidity: Double = 45, hectopascal: Double = 1013.2, bmp280: Bool = false,
                calibration: Calibration = .sample) {
        self.isBMP280 = bmp280
        self.calibration = calibration
        var registers = RegisterFile()
        registers[0xD0] = bmp280 ? 0x58 : 0x60
        func put(_ register: Int, _ value: UInt16) {
            registers.bytes[register] = UInt8(value & 0xFF)
            registers.bytes[register + 1] = UInt8(value >> 8)
        }
        let t = calibration.t, p = calibration.p, h = calibration.h
        put(0x88, t.0); put(0x8A, UInt16(bitPattern: t.1)); put(0x8C, UInt16(bitPattern: t.2))
        put(0x8E, p.0)
        for (index, value) in [p.1, p.2, p.3, p.4, p.5, p.6, p.7, p.8].enumerated() { put(0x90 + 2 * index, UInt16(bitPattern: value)) }
        if !bmp280 {
            registers.bytes[0xA1] = h.0
            put(0xE1, UInt16(bitPattern: h.1))
            registers.bytes[0xE3] = h.2
            registers.bytes[0xE4] = UInt8(truncatingIfNeeded: h.3 >> 4)
            registers.bytes[0xE5] = UInt8(truncatingIfNeeded: h.3 & 0x0F) | UInt8(truncatingIfNeeded: (h.4 & 0x0F) << 4)
            registers.bytes[0xE6] = UInt8(truncatingIfNeeded: h.4 >> 4)
            registers.bytes[0xE7] = UInt8(bitPattern: h.5)
        }
        // Until a measurement: the reset value of the data registers (0x80000).
        registers.bytes[0xF7] = 0x80; registers.bytes[0xFA] = 0x80; registers.bytes[0xFD] = 0x80
        state = Mutex(State(registers: registers, celsius: celsius, humidity: humidity, hectopascal: hectopascal))
    }

    /// Sets what the next measurement measures.
    public func set(celsius: Double? = nil, humidity: Double? = nil, hectopascal: Double? = nil) {
        state.withLock { state in
            if let celsius { state.celsius = celsius }
            if let humidity { state.humidity = humidity }
            if let hectopascal { state.hectopascal = hectopascal }
        }
    }

    /// Fault: the "measuring" status bit never clears.
    public func setStuckMeasuring(_ stuck: Bool) { state.withLock { $0.stuckMeasuring = stuck } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        state.withLock { state in
            for (register, value) in state.registers.write(bytes) {
                if register == 0xE0 && value == 0xB6 { continue } // soft reset: calibration is in NVM
                if register == 0xF4 && value & 0b11 != 0 { measure(&state) }
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        state.withLock { state in
            if state.registers.pointer == 0xF3 {
                // Status: bit 3 "measuring" while a conversion runs.
                let measuring = state.stuckMeasuring || state.measuringReads > 0
                if state.measuringReads > 0 { state.measuringReads -= 1 }
                state.registers[0xF3] = measuring ? 0x08 : 0x00
            }
            return state.registers.read(count: count)
        }
    }

    private func measure(_ state: inout State) {
        let adcT = invert(0..<(1 << 20)) { temperature($0).celsius } target: { state.celsius }
        let tFine = temperature(adcT).tFine
        // Pressure falls as its ADC value rises.
        let adcP = invert(0..<(1 << 20), decreasing: true) { self.pressure($0, tFine) } target: { state.hectopascal * 100 }
        put20(adcP, at: 0xF7, in: &state.registers)
        put20(adcT, at: 0xFA, in: &state.registers)
        if !isBMP280 {
            let adcH = invert(0..<(1 << 16)) { self.humidity($0, tFine) } target: { state.humidity }
            state.registers[0xFD] = UInt8(adcH >> 8)
            state.registers[0xFE] = UInt8(adcH & 0xFF)
        }
        if state.registers[0xF4] & 0b11 != 0b11 { state.registers[0xF4] &= ~0b11 } // forced → sleep after the measurement
        state.measuringReads = state.statusReadsPerMeasurement
    }

    private func put20(_ value: Int, at register: UInt8, in registers: inout RegisterFile) {
        registers[register] = UInt8(value >> 12)
        registers[register &+ 1] = UInt8((value >> 4) & 0xFF)
        registers[register &+ 2] = UInt8((value & 0x0F) << 4)
    }

    /// The ADC value whose compensated value is closest to the target.
    private func invert(_ range: Range<Int>, decreasing: Bool = false, _ value: (Int) -> Double, target: () -> Double) -> Int {
        ADCSearch.closest(in: range, decreasing: decreasing, value, to: target())
    }

    // The datasheet's double-precision compensation (BME280 §8.1).
    private func temperature(_ adc: Int) -> (celsius: Double, tFine: Double) {
        let (t1, t2, t3) = (Double(calibration.t.0), Double(calibration.t.1), Double(calibration.t.2))
        let a = Double(adc)
        let var1 = (a / 16384.0 - t1 / 1024.0) * t2
        let var2 = (a / 131072.0 - t1 / 8192.0) * (a / 131072.0 - t1 / 8192.0) * t3
        return ((var1 + var2) / 5120.0, var1 + var2)
    }

    private func pressure(_ adc: Int, _ tFine: Double) -> Double {
        let c = calibration.p
        var var1 = tFine / 2.0 - 64000.0
        var var2 = var1 * var1 * Double(c.5) / 32768.0
        var2 += var1 * Double(c.4) * 2.0
        var2 = var2 / 4.0 + Double(c.3) * 65536.0
        var1 = (Double(c.2) * var1 * var1 / 524288.0 + Double(c.1) * var1) / 524288.0
        var1 = (1.0 + var1 / 32768.0) * Double(c.0)
        guard var1 != 0 else { return 0 }
        var p = (1048576.0 - Double(adc) - var2 / 4096.0) * 6250.0 / var1
        var1 = Double(c.8) * p * p / 2147483648.0
        var2 = p * Double(c.7) / 32768.0
        p += (var1 + var2 + Double(c.6)) / 16.0
        return p
    }

    private func humidity(_ adc: Int, _ tFine: Double) -> Double {
        let (h1, h2, h3, h4, h5, h6) = (Double(calibration.h.0), Double(calibration.h.1), Double(calibration.h.2),
                                        Double(calibration.h.3), Double(calibration.h.4), Double(calibration.h.5))
        var h = tFine - 76800.0
        h = (Double(adc) - (h4 * 64.0 + h5 / 16384.0 * h)) * (h2 / 65536.0 * (1.0 + h6 / 67108864.0 * h * (1.0 + h3 / 67108864.0 * h)))
        return h * (1.0 - h1 * h / 524288.0)
    }
}
