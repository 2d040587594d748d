import Synchronization

/// A BME680 (or BME688) at the register level (datasheet BST-BME680-DS001
/// §5.2–5.3): chip id 0x61 at D0h, variant id at F0h, the calibration NVM
/// at 8Ah…A0h, E1h…EEh and 00h…04h, the heater set-point 0 registers, and a
/// forced TPHG cycle on a ctrl_meas write with mode 01 that fills
/// meas_status_0 (new_data_0, gas_meas_index), the ADC registers and gas_r
/// (gas_valid_r, heat_stab_r, gas_range_r). A write of several bytes is
/// register/value pairs, as the chip's I2C write is (§6.2.1); reads
/// auto-increment.
///
/// The raw values are found from the environment set here by inverting the
/// compensation, written out again from the datasheet rather than borrowed
/// from the driver, so a mistake in either shows up in the tests.
public final class SimulatedBME680: SimulatedI2CChip, Sendable {
    /// Trimming values published in elixir-sensors/bmp280's BME680 test
    /// (the vector BME680PlaybackTests replays): par_t1…t3, par_p1…p10, par_h1…h7, par_g1…g3,
    /// range_switching_error, res_heat_val, res_heat_range.
    public struct Calibration: Sendable {
        public var t: (UInt16, Int16, Int8)
        public var p: (UInt16, Int16, Int8, Int16, Int16, Int8, Int8, Int16, Int16, UInt8)
        public var h: (UInt16, UInt16, Int8, Int8, Int8, UInt8, Int8)
        public var g: (Int8, Int16, Int8)
        public var rangeSwitchingError: Int8
        public var resHeatVal: Int8
        public var resHeatRange: UInt8

        public static let sample = Calibration(
            t: (26195, 26290, 3),
            p: (35395, -10405, 88, 4836, -118, 30, 26, -765, -3367, 30),
            h: (717, 1021, 0, 45, 20, 120, -100),
            g: (-30, -5969, 18), rangeSwitchingError: 1, resHeatVal: 50, resHeatRange: 1)
    }

    struct State {
        var registers = [UInt8](repeating: 0, count: 256)
        var pointer = 0
        var celsius: Double
        var humidity: Double
        var pascal: Double
        var ohms: Double
        var pendingReads = 0
        var readsPerMeasurement = 0
        var stuck = false
        var heaterUnstable = false
        var measurements = 0
    }

    public let isBME688: Bool
    public let calibration: Calibration
    private let state: Mutex<State>

    public init(celsius: Double = 21.8, humidity: Double = 42, pascal: Double = 101_250, gasOhms: Double = 85_000, bme688: Bool = false,
                calibration: Calibration = .sample) {
        isBME688 = bme688
        self.calibration = calibration
        var r = [UInt8](repeating: 0, count: 256)
        r[0xD0] = 0x61
        r[0xF0] = bme688 ? 0x01 : 0x00
        func put(_ register: Int, _ value: UInt16) {
            r[register] = UInt8(value & 0xFF)
            r[register + 1] = UInt8(value >> 8)
        }
        let t = calibration.t, p = calibration.p, h = calibration.h, g = calibration.g
        put(0x8A, UInt16(bitPattern: t.1)); r[0x8C] = UInt8(bitPattern: t.2)
        put(0x8E, p.0); put(0x90, UInt16(bitPattern: p.1)); r[0x92] = UInt8(bitPattern: p.2)
        put(0x94, UInt16(bitPattern: p.3)); put(0x96, UInt16(bitPattern: p.4))
        r[0x98] = UInt8(bitPattern: p.6); r[0x99] = UInt8(bitPattern: p.5)
        put(0x9C, UInt16(bitPattern: p.7)); put(0x9E, UInt16(bitPattern: p.8)); r[0xA0] = p.9
        r[0xE1] = UInt8(truncatingIfNeeded: h.1 >> 4)
        r[0xE2] = UInt8(truncatingIfNeeded: (h.1 & 0x0F) << 4) | UInt8(truncatingIfNeeded: h.0 & 0x0F)
        r[0xE3] = UInt8(truncatingIfNeeded: h.0 >> 4)
        r[0xE4] = UInt8(bitPattern: h.2); r[0xE5] = UInt8(bitPattern: h.3); r[0xE6] = UInt8(bitPattern: h.4)
        r[0xE7] = h.5; r[0xE8] = UInt8(bitPattern: h.6)
        put(0xE9, t.0)
        put(0xEB, UInt16(bitPattern: g.1)); r[0xED] = UInt8(bitPattern: g.0); r[0xEE] = UInt8(bitPattern: g.2)
        r[0x00] = UInt8(bitPattern: calibration.resHeatVal)
        r[0x02] = (calibration.resHeatRange & 0x03) << 4
        r[0x04] = UInt8(bitPattern: calibration.rangeSwitchingError) << 4
        // Until a measurement: the ADC registers' reset value 0x80000 / 0x8000.
        r[0x1F] = 0x80; r[0x22] = 0x80; r[0x25] = 0x80
        state = Mutex(State(registers: r, celsius: celsius, humidity: humidity, pascal: pascal, ohms: gasOhms))
    }

    /// Sets what the next measurement measures.
    public func set(celsius: Double? = nil, humidity: Double? = nil, pascal: Double? = nil, gasOhms: Double? = nil) {
        state.withLock { state in
            if let celsius { state.celsius = celsius }
            if let humidity { state.humidity = humidity }
            if let pascal { state.pascal = pascal }
            if let gasOhms { state.ohms = gasOhms }
        }
    }

    /// Fault: new_data_0 never comes.
    public func setStuck(_ stuck: Bool) { state.withLock { $0.stuck = stuck } }
    /// Fault: the heater never reaches its target (heat_stab_r stays 0).
    public func setHeaterUnstable(_ unstable: Bool) { state.withLock { $0.heaterUnstable = unstable } }
    /// Reads of meas_status_0 after each trigger before new_data_0 is set
    /// (0: the cycle is done by the first read).
    public func setReadsPerMeasurement(_ reads: Int) { state.withLock { $0.readsPerMeasurement = reads } }

    /// Forced cycles run so far.
    public var measurements: Int { state.withLock { $0.measurements } }
    /// A register's content (res_heat_0, gas_wait_0, ctrl_gas_1, …).
    public func register(_ register: UInt8) -> UInt8 { state.withLock { $0.registers[Int(register)] } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        state.withLock { state in
            guard let first = bytes.first else { return }
            state.pointer = Int(first)
            // Register/value pairs: [reg, value, reg, value, …].
            var index = 0
            while index + 1 < bytes.count {
                let register = Int(bytes[index]), value = bytes[index + 1]
                index += 2
                if register == 0xE0 {
                    if value == 0xB6 { reset(&state) }
                    continue
                }
                if [0xD0, 0xF0].contains(register) || (0x1D...0x2D).contains(register) { continue } // read-only
                state.registers[register] = value
                if register == 0x74 && value & 0b11 == 0b01 { measure(&state) }
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        state.withLock { state in
            if state.pointer == 0x1D, state.registers[0x1D] & 0x80 == 0, state.measurements > 0, !state.stuck {
                if state.pendingReads > 0 { state.pendingReads -= 1 } else { state.registers[0x1D] |= 0x80 }
            }
            let result = (0..<count).map { state.registers[(state.pointer + $0) & 0xFF] }
            state.pointer += count
            return result
        }
    }

    private func reset(_ state: inout State) {
        for register in [0x5A, 0x64, 0x70, 0x71, 0x72, 0x74, 0x75] { state.registers[register] = 0 }
    }

    private func measure(_ state: inout State) {
        state.measurements += 1
        let adcT = invert(0..<(1 << 20)) { temperature($0).celsius } target: { state.celsius }
        let (celsius, tFine) = temperature(adcT)
        let adcP = invert(0..<(1 << 20), decreasing: true) { pressure($0, tFine) } target: { state.pascal }
        let adcH = invert(0..<(1 << 16)) { humidity($0, celsius) } target: { state.humidity }
        put20(adcP, at: 0x1F, in: &state.registers)
        put20(adcT, at: 0x22, in: &state.registers)
        state.registers[0x25] = UInt8(adcH >> 8)
        state.registers[0x26] = UInt8(adcH & 0xFF)
        // Gas: only with run_gas set as this variant wants it (ctrl_gas_1<5:4>:
        // 01 on a BME680, 10 on a BME688), for set-point nb_conv.
        let runGas = state.registers[0x71] >> 4 & 0b11
        let index = Int(state.registers[0x71] & 0x0F)
        let valid = runGas == (isBME688 ? 0b10 : 0b01) && index <= 9
        // The datasheet: about 20–30 ms are needed for the heater to reach its target (§3.3.5).
        let wait = state.registers[0x64 + min(index, 9)]
        let heated = Int(wait & 0x3F) << (2 * Int(wait >> 6)) >= 20 && state.registers[0x5A + min(index, 9)] != 0
        let (adcG, range) = gasRaw(state.ohms)
        let status: UInt8 = (valid ? 0x20 : 0) | (valid && heated && !state.heaterUnstable ? 0x10 : 0)
        let (msb, lsb) = (UInt8(adcG >> 2), UInt8((adcG & 0b11) << 6) | status | UInt8(range))
        if isBME688 {
            state.registers[0x2C] = msb; state.registers[0x2D] = lsb
            state.registers[0x2A] = 0; state.registers[0x2B] = 0
        } else {
            state.registers[0x2A] = msb; state.registers[0x2B] = lsb
        }
        state.registers[0x1E] &+= 1 // meas_index_0
        // new_data_0 (bit 7) is set once the cycle is done: after `readsPerMeasurement` reads.
        state.registers[0x1D] = UInt8(index & 0x0F)
        state.pendingReads = state.readsPerMeasurement
        state.registers[0x74] &= ~0b11 // forced → sleep after the cycle
    }

    private func put20(_ value: Int, at register: Int, in registers: inout [UInt8]) {
        registers[register] = UInt8(value >> 12)
        registers[register + 1] = UInt8((value >> 4) & 0xFF)
        registers[register + 2] = UInt8((value & 0x0F) << 4)
    }

    /// The ADC value whose compensated value is closest to the target.
    private func invert(_ range: Range<Int>, decreasing: Bool = false, _ value: (Int) -> Double, target: () -> Double) -> Int {
        ADCSearch.closest(in: range, decreasing: decreasing, value, to: target())
    }

    // The datasheet's floating-point compensation (§3.3.1–3.3.3, §3.4.1).
    private func temperature(_ adc: Int) -> (celsius: Double, tFine: Double) {
        let (t1, t2, t3) = (Double(calibration.t.0), Double(calibration.t.1), Double(calibration.t.2))
        let a = Double(adc)
        let var1 = (a / 16384.0 - t1 / 1024.0) * t2
        let var2 = (a / 131072.0 - t1 / 8192.0) * (a / 131072.0 - t1 / 8192.0) * (t3 * 16.0)
        return ((var1 + var2) / 5120.0, var1 + var2)
    }

    private func pressure(_ adc: Int, _ tFine: Double) -> Double {
        let c = calibration.p
        var var1 = tFine / 2.0 - 64000.0
        var var2 = var1 * var1 * (Double(c.5) / 131072.0)
        var2 += var1 * Double(c.4) * 2.0
        var2 = var2 / 4.0 + Double(c.3) * 65536.0
        var1 = (Double(c.2) * var1 * var1 / 16384.0 + Double(c.1) * var1) / 524288.0
        var1 = (1.0 + var1 / 32768.0) * Double(c.0)
        guard abs(var1) >= 1 else { return 0 }
        var p = (1048576.0 - Double(adc) - var2 / 4096.0) * 6250.0 / var1
        var1 = Double(c.8) * p * p / 2147483648.0
        var2 = p * Double(c.7) / 32768.0
        let var3 = (p / 256.0) * (p / 256.0) * (p / 256.0) * Double(c.9) / 131072.0
        p += (var1 + var2 + var3 + Double(c.6) * 128.0) / 16.0
        return p
    }

    private func humidity(_ adc: Int, _ celsius: Double) -> Double {
        let h = calibration.h
        let var1 = Double(adc) - (Double(h.0) * 16.0 + Double(h.2) / 2.0 * celsius)
        let var2 = var1 * (Double(h.1) / 262144.0 * (1.0 + Double(h.3) / 16384.0 * celsius + Double(h.4) / 1048576.0 * celsius * celsius))
        return var2 + (Double(h.5) / 16384.0 + Double(h.6) / 2097152.0 * celsius) * var2 * var2
    }

    private static let array1: [Double] = [1, 1, 1, 1, 1, 0.99, 1, 0.992, 1, 1, 0.998, 0.995, 1, 0.99, 1, 1]
    private static let array2: [Double] = [8e6, 4e6, 2e6, 1e6, 499_500.4995, 248_262.1648, 125_000, 63_004.03226, 31_281.28128,
                                           15_625, 7_812.5, 3_906.25, 1_953.125, 976.5625, 488.28125, 244.140625]

    private func gasResistance(_ adc: Int, _ range: Int) -> Double {
        if isBME688 { return 1e6 * Double(262_144 >> range) / Double(4096 + 3 * (adc - 512)) }
        let var1 = (1340.0 + 5.0 * Double(calibration.rangeSwitchingError)) * Self.array1[range]
        return var1 * Self.array2[range] / (Double(adc) - 512.0 + var1)
    }

    /// The range and 10-bit value a chip's auto-ranging would give: of the
    /// 16 ranges, the one whose nearest ADC value is closest to the target.
    private func gasRaw(_ ohms: Double) -> (adc: Int, range: Int) {
        var best = (adc: 512, range: 0, error: Double.infinity)
        for range in 0..<16 {
            let adc = invert(0..<1024, decreasing: true) { gasResistance($0, range) } target: { ohms }
            let error = abs(gasResistance(adc, range) - ohms)
            if error < best.error { best = (adc, range, error) }
        }
        return (best.adc, best.range)
    }
}
