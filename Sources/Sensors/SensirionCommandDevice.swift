import Hardware

/// The Sensirion command protocol shared by SHT3x, SHT4x and SCD4x: a
/// 16-bit (SHT4x: 8-bit) command, a wait, then words of two bytes each
/// followed by a CRC-8. A CRC failure is retried a bounded number of times.
struct SensirionCommandDevice {
    let device: I2CDevice
    let chip: String
    let sleeper: any Sleeper
    static let attempts = 3

    func send(_ command: [UInt8]) throws(SensorError) {
        do { try device.write(command) } catch { throw .bus(error, chip: chip) }
    }

    /// Sends `command`, waits `milliseconds`, reads `words` CRC-checked words.
    func words(_ command: [UInt8], wait milliseconds: Double, words count: Int) throws(SensorError) -> [UInt16] {
        for _ in 0..<Self.attempts {
            try send(command)
            sleeper.sleep(milliseconds: milliseconds)
            let bytes: [UInt8]
            do { bytes = try device.read(count: 3 * count) } catch { throw .bus(error, chip: chip) }
            if let words = SensirionCRC.words(bytes) { return words }
        }
        throw .crc(chip: chip, attempts: Self.attempts)
    }
}
