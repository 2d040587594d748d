/// The BME280/BMP280 trimming parameters and the datasheet's compensation
/// formulas (BME280 datasheet §4.2.3 and §8.1, double-precision versions).
public struct BME280Calibration: Equatable, Sendable {
    public var t1: UInt16, t2: Int16, t3: Int16
    public var p1: UInt16, p2: Int16, p3: Int16, p4: Int16, p5: Int16, p6: Int16, p7: Int16, p8: Int16, p9: Int16
    public var h1: UInt8, h2: Int16, h3: UInt8, h4: Int16, h5: Int16, h6: Int8

    public init(t1: UInt16, t2: Int16, t3: Int16, p1: UInt16, p2: Int16, p3: Int16, p4: Int16, p5: Int16, p6: Int16, p7: Int16,
                p8: Int16, p9: Int16, h1: UInt8 = 0, h2: Int16 = 0, h3: UInt8 = 0, h4: Int16 = 0, h5: Int16 = 0, h6: Int8 = 0) {
        self.t1 = t1; self.t2 = t2; self.t3 = t3
        self.p1 = p1; self.p2 = p2; self.p3 = p3; self.p4 = p4; self.p5 = p5; self.p6 = p6; self.p7 = p7; self.p8 = p8; self.p9 = p9
        self.h1 = h1; self.h2 = h2; self.h3 = h3; self.h4 = h4; self.h5 = h5; self.h6 = h6
    }

    /// From registers 0x88…0xA1 (26 bytes) and, for the BME280, 0xE1…0xE7 (7 bytes).
    public init(temperatureAndPressure a: [UInt8], humidity b: [UInt8]?) {
        func u16(_ i: Int) -> UInt16 { UInt16(a[i]) | UInt16(a[i + 1]) << 8 }
        func s16(_ i: Int) -> Int16 { Int16(bitPattern: u16(i)) }
        self.init(t1: u16(0), t2: s16(2), t3: s16(4), p1: u16(6), p2: s16(8), p3: s16(10), p4: s16(12), p5: s16(14),
                  p6: s16(16), p7: s16(18), p8: s16(20), p9: s16(22))
        h1 = a[25]
        if let b, b.count >= 7 {
            h2 = Int16(bitPattern: UInt16(b[0]) | UInt16(b[1]) << 8)
            h3 = b[2]
            // dig_H4 = 0xE4[11:4] | 0xE5[3:0]; dig_H5 = 0xE6[11:4] | 0xE5[7:4] (12-bit, signed through 0xE4/0xE6).
            h4 = Int16(Int8(bitPattern: b[3])) << 4 | Int16(b[4] & 0x0F)
            h5 = Int16(Int8(bitPattern: b[5])) << 4 | Int16(b[4] >> 4)
            h6 = Int8(bitPattern: b[6])
        }
    }

    /// Temperature in °C and t_fine (which pressure and humidity need).
    public func temperature(adc: Int32) -> (celsius: Double, tFine: Double) {
        let adc = Double(adc)
        let var1 = (adc / 16384.0 - Double(t1) / 1024.0) * Double(t2)
        let var2 = (adc / 131072.0 - Double(t1) / 8192.0) * (adc / 131072.0 - Double(t1) / 8192.0) * Double(t3)
        let tFine = var1 + var2
        return (tFine / 5120.0, tFine)
    }

    /// Pressure in Pa.
    public func pressure(adc: Int32, tFine: Double) -> Double {
        var var1 = tFine / 2.0 - 64000.0
        var var2 = var1 * var1 * Double(p6) / 32768.0
        var2 = var2 + var1 * Double(p5) * 2.0
        var2 = var2 / 4.0 + Double(p4) * 65536.0
        var1 = (Double(p3) * var1 * var1 / 524288.0 + Double(p2) * var1) / 524288.0
        var1 = (1.0 + var1 / 32768.0) * Double(p1)
        if var1 == 0 { return 0 } // avoid division by zero (datasheet)
        var pressure = 1048576.0 - Double(adc)
        pressure = (pressure - var2 / 4096.0) * 6250.0 / var1
        var1 = Double(p9) * pressure * pressure / 2147483648.0
        var2 = pressure * Double(p8) / 32768.0
        return pressure + (var1 + var2 + Double(p7)) / 16.0
    }

    /// Relative humidity in %, clamped to 0…100 as the datasheet does.
    public func humidity(adc: Int32, tFine: Double) -> Double {
        var h = tFine - 76800.0
        h = (Double(adc) - (Double(h4) * 64.0 + Double(h5) / 16384.0 * h))
            * (Double(h2) / 65536.0 * (1.0 + Double(h6) / 67108864.0 * h * (1.0 + Double(h3) / 67108864.0 * h)))
        h = h * (1.0 - Double(h1) * h / 524288.0)
        return min(100, max(0, h))
    }
}
