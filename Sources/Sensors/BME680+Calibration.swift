/// The BME680/BME688 trimming parameters and Bosch's floating-point
/// compensation (BME680 datasheet BST-BME680-DS001 §3.3 and §3.4.1; the
/// BME68x Sensor API's float variants, bme68x.c v4.4.x, for the BME688's
/// gas formula), in Double.
public struct BME680Calibration: Equatable, Sendable {
    public var t1: UInt16, t2: Int16, t3: Int8
    public var p1: UInt16, p2: Int16, p3: Int8, p4: Int16, p5: Int16, p6: Int8, p7: Int8, p8: Int16, p9: Int16, p10: UInt8
    public var h1: UInt16, h2: UInt16, h3: Int8, h4: Int8, h5: Int8, h6: UInt8, h7: Int8
    public var gh1: Int8, gh2: Int16, gh3: Int8
    /// res_heat_range (0x02 bits 5:4), res_heat_val (0x00, signed),
    /// range_switching_error (0x04 bits 7:4, a signed nibble).
    public var resHeatRange: UInt8, resHeatVal: Int8, rangeSwitchingError: Int8

    /// Register blocks and lengths (datasheet Table 11, 12, 13 and §5.2; the API's COEFF1…3).
    public static let blocks: [(start: UInt8, count: Int)] = [(0x8A, 23), (0xE1, 14), (0x00, 5)]

    public init(t1: UInt16, t2: Int16, t3: Int8, p1: UInt16, p2: Int16, p3: Int8, p4: Int16, p5: Int16, p6: Int8, p7: Int8,
                p8: Int16, p9: Int16, p10: UInt8, h1: UInt16, h2: UInt16, h3: Int8, h4: Int8, h5: Int8, h6: UInt8, h7: Int8,
                gh1: Int8, gh2: Int16, gh3: Int8, resHeatRange: UInt8, resHeatVal: Int8, rangeSwitchingError: Int8) {
        self.t1 = t1; self.t2 = t2; self.t3 = t3
        self.p1 = p1; self.p2 = p2; self.p3 = p3; self.p4 = p4; self.p5 = p5; self.p6 = p6; self.p7 = p7; self.p8 = p8
        self.p9 = p9; self.p10 = p10
        self.h1 = h1; self.h2 = h2; self.h3 = h3; self.h4 = h4; self.h5 = h5; self.h6 = h6; self.h7 = h7
        self.gh1 = gh1; self.gh2 = gh2; self.gh3 = gh3
        self.resHeatRange = resHeatRange; self.resHeatVal = resHeatVal; self.rangeSwitchingError = rangeSwitchingError
    }

    /// From 0x8A…0xA0 (23 bytes), 0xE1…0xEE (14 bytes) and 0x00…0x04
    /// (5 bytes); nil when a block is short.
    public init?(_ a: [UInt8], _ b: [UInt8], _ c: [UInt8]) {
        guard a.count >= 23, b.count >= 14, c.count >= 5 else { return nil }
        func u16(_ bytes: [UInt8], _ i: Int) -> UInt16 { UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8 }
        func s16(_ bytes: [UInt8], _ i: Int) -> Int16 { Int16(bitPattern: u16(bytes, i)) }
        func s8(_ byte: UInt8) -> Int8 { Int8(bitPattern: byte) }
        // 0x8A/0x8B par_t2, 0x8C par_t3, 0x8E/0x8F par_p1, 0x90/0x91 par_p2,
        // 0x92 par_p3, 0x94/0x95 par_p4, 0x96/0x97 par_p5, 0x98 par_p7,
        // 0x99 par_p6, 0x9C/0x9D par_p8, 0x9E/0x9F par_p9, 0xA0 par_p10.
        // 0xE1 par_h2<11:4>, 0xE2 par_h2<3:0> (high nibble) and par_h1<3:0>
        // (low nibble), 0xE3 par_h1<11:4>, 0xE4…0xE8 par_h3…par_h7,
        // 0xE9/0xEA par_t1, 0xEB/0xEC par_g2, 0xED par_g1, 0xEE par_g3.
        self.init(t1: u16(b, 8), t2: s16(a, 0), t3: s8(a[2]),
                  p1: u16(a, 4), p2: s16(a, 6), p3: s8(a[8]), p4: s16(a, 10), p5: s16(a, 12), p6: s8(a[15]), p7: s8(a[14]),
                  p8: s16(a, 18), p9: s16(a, 20), p10: a[22],
                  h1: UInt16(b[2]) << 4 | UInt16(b[1] & 0x0F), h2: UInt16(b[0]) << 4 | UInt16(b[1] >> 4),
                  h3: s8(b[3]), h4: s8(b[4]), h5: s8(b[5]), h6: b[6], h7: s8(b[7]),
                  gh1: s8(b[12]), gh2: s16(b, 10), gh3: s8(b[13]),
                  resHeatRange: (c[2] & 0x30) >> 4, resHeatVal: s8(c[0]), rangeSwitchingError: s8(c[4] & 0xF0) >> 4)
    }

    /// Temperature in °C and t_fine (which pressure needs).
    public func temperature(adc: Int) -> (celsius: Double, tFine: Double) {
        let adc = Double(adc), t1 = Double(t1)
        let var1 = (adc / 16384.0 - t1 / 1024.0) * Double(t2)
        let var2 = (adc / 131072.0 - t1 / 8192.0) * (adc / 131072.0 - t1 / 8192.0) * (Double(t3) * 16.0)
        return ((var1 + var2) / 5120.0, var1 + var2)
    }

    /// Pressure in Pa; 0 where the datasheet avoids a division by zero.
    public func pressure(adc: Int, tFine: Double) -> Double {
        var var1 = tFine / 2.0 - 64000.0
        var var2 = var1 * var1 * (Double(p6) / 131072.0)
        var2 += var1 * Double(p5) * 2.0
        var2 = var2 / 4.0 + Double(p4) * 65536.0
        var1 = (Double(p3) * var1 * var1 / 16384.0 + Double(p2) * var1) / 524288.0
        var1 = (1.0 + var1 / 32768.0) * Double(p1)
        guard abs(var1) >= 1 else { return 0 }
        var pressure = 1048576.0 - Double(adc)
        pressure = (pressure - var2 / 4096.0) * 6250.0 / var1
        var1 = Double(p9) * pressure * pressure / 2147483648.0
        var2 = pressure * (Double(p8) / 32768.0)
        let var3 = (pressure / 256.0) * (pressure / 256.0) * (pressure / 256.0) * (Double(p10) / 131072.0)
        return pressure + (var1 + var2 + var3 + Double(p7) * 128.0) / 16.0
    }

    /// Relative humidity in %, clamped to 0…100 as the datasheet does.
    public func humidity(adc: Int, celsius: Double) -> Double {
        let var1 = Double(adc) - (Double(h1) * 16.0 + Double(h3) / 2.0 * celsius)
        let var2 = var1 * (Double(h2) / 262144.0 * (1.0 + Double(h4) / 16384.0 * celsius + Double(h5) / 1048576.0 * celsius * celsius))
        let var3 = Double(h6) / 16384.0
        let var4 = Double(h7) / 2097152.0
        let humidity = var2 + (var3 + var4 * celsius) * var2 * var2
        return min(100, max(0, humidity))
    }

    /// The datasheet's gas ranges (§3.4.1, Table 16): const_array1 and const_array2.
    static let rangeFactor: [Double] = [1, 1, 1, 1, 1, 0.99, 1, 0.992, 1, 1, 0.998, 0.995, 1, 0.99, 1, 1]
    static let rangeResistance: [Double] = [
        8_000_000, 4_000_000, 2_000_000, 1_000_000, 499_500.4995, 248_262.1648, 125_000, 63_004.03226,
        31_281.28128, 15_625, 7_812.5, 3_906.25, 1_953.125, 976.5625, 488.28125, 244.140625,
    ]

    /// A BME680's gas resistance in Ω from gas_r (10 bits) and gas_range
    /// (4 bits): var1 = (1340 + 5·range_switching_error)·const_array1[range],
    /// R = var1·const_array2[range] / (gas_r − 512 + var1).
    public func bme680GasResistance(adc: Int, range: Int) -> Double {
        let range = max(0, min(15, range))
        let var1 = (1340.0 + 5.0 * Double(rangeSwitchingError)) * Self.rangeFactor[range]
        return var1 * Self.rangeResistance[range] / (Double(adc) - 512.0 + var1)
    }

    /// A BME688's gas resistance in Ω (the BME68x API's "high" variant):
    /// R = 10⁶ · (262144 >> range) / (4096 + 3·(gas_r − 512)).
    public static func bme688GasResistance(adc: Int, range: Int) -> Double {
        let range = max(0, min(15, range))
        return 1_000_000.0 * Double(262_144 >> range) / Double(4096 + 3 * (adc - 512))
    }

    /// res_heat_x for a heater target in °C at an ambient temperature in °C
    /// (datasheet §3.3.5, float version; the result truncated to a byte as
    /// the datasheet's (uint8_t) cast does). The target is capped at 400 °C.
    public func heaterResistance(target: Double, ambient: Double) -> UInt8 {
        let target = min(400, target)
        let var1 = Double(gh1) / 16.0 + 49.0
        let var2 = Double(gh2) / 32768.0 * 0.0005 + 0.00235
        let var3 = Double(gh3) / 1024.0
        let var4 = var1 * (1.0 + var2 * target)
        let var5 = var4 + var3 * ambient
        let code = 3.4 * (var5 * (4.0 / (4.0 + Double(resHeatRange))) * (1.0 / (1.0 + Double(resHeatVal) * 0.002)) - 25)
        guard code.isFinite else { return 0 }
        return UInt8(max(0, min(255, code.rounded(.towardZero))))
    }

    /// gas_wait_x for a heater-on time in ms (datasheet §5.3.3.3): 6 bits
    /// of ms times a multiplication factor 1, 4, 16 or 64 in bits 7:6;
    /// 4032 ms (63 × 64) and more is 0xFF.
    public static func gasWait(milliseconds: Int) -> UInt8 {
        guard milliseconds < 0xFC0 else { return 0xFF }
        var value = max(0, milliseconds), factor: UInt8 = 0
        while value > 0x3F {
            value /= 4
            factor += 1
        }
        return UInt8(value) | factor << 6
    }

    /// What a gas_wait_x code waits, in ms.
    public static func gasWaitMilliseconds(_ code: UInt8) -> Int {
        Int(code & 0x3F) << (2 * Int(code >> 6))
    }
}
