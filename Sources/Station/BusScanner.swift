import Hardware
import Sensors

/// What answered at one address, and what it is where we can tell.
public struct ScannedDevice: Equatable, Sendable {
    public var address: UInt16
    /// `BME280 (chip-id 0x60)`, `SHT4x (serial 0x12345678)`; nil: unknown.
    public var identity: String?
}

/// Finds devices on a bus without disturbing them: every address gets one
/// read-only probe (SMBus receive byte, as `i2cdetect -r` does). Only an
/// address where a chip we know lives, and that answered, gets that chip's
/// identification read (its id register or serial-number command).
/// Sensirion chips NACK a read that no command preceded (SHT3x datasheet
/// §4.4), so at their addresses the probe is their read-serial command,
/// which only returns the serial number (SPS30 at 0x69: Read Product Type,
/// 0xD002; to a register chip there, such as an MPU-6050 with AD0 high,
/// that writes 0x02 to register 0xD0, beyond the register maps of the
/// chips found at 0x69).
public struct BusScanner: Sendable {
    public let bus: any I2CBus
    public let sleeper: any Sleeper

    public init(bus: any I2CBus, sleeper: any Sleeper = SystemSleeper()) {
        self.bus = bus
        self.sleeper = sleeper
    }

    /// The 7-bit addresses `i2cdetect` scans by default (0x00–0x07 and
    /// 0x78–0x7F are reserved).
    public static let addresses: ClosedRange<UInt16> = 0x08...0x77
    static let sensirionAddresses: Set<UInt16> = [0x44, 0x45, 0x46, 0x62, 0x69]

    public func scan() throws(I2CError) -> [ScannedDevice] {
        var found: [ScannedDevice] = []
        for address in Self.addresses {
            if Self.sensirionAddresses.contains(address) {
                if let identity = identify(address) { found.append(ScannedDevice(address: address, identity: identity)) }
                continue
            }
            do {
                _ = try bus.receiveByte(address: address)
            } catch {
                switch error.kind {
                case .missingBus, .permissionDenied, .unsupported: throw error
                default: continue
                }
            }
            found.append(ScannedDevice(address: address, identity: identify(address)))
        }
        return found
    }

    func identify(_ address: UInt16) -> String? {
        let device = I2CDevice(bus: bus, address: address)
        switch address {
        case 0x76, 0x77:
            guard let id = try? device.readRegister(0xD0) else { return nil }
            switch id {
            case 0x60: return "BME280 (chip-id 0x60)"
            case 0x61:
                // BME680 and BME688 share chip-id 0x61; variant id F0h: 0x00 BME680, 0x01 BME688.
                switch try? device.readRegister(0xF0) {
                case 0x00: return "BME680 (chip-id 0x61, variant 0x00)"
                case 0x01: return "BME688 (chip-id 0x61, variant 0x01)"
                default: return "BME680/BME688 (chip-id 0x61)"
                }
            case 0x56, 0x57, 0x58: return "BMP280 (chip-id 0x\(I2CError.hex(UInt16(id))))"
            default: return nil
            }
        case 0x44, 0x45, 0x46:
            if let serial = sensirionWords(device, command: [0x89], words: 2) {
                return "SHT4x (serial 0x\(hex32(UInt32(serial[0]) << 16 | UInt32(serial[1]))))"
            }
            if address != 0x46, let serial = sensirionWords(device, command: [0x37, 0x80], words: 2) {
                return "SHT3x (serial 0x\(hex32(UInt32(serial[0]) << 16 | UInt32(serial[1]))))"
            }
            return nil
        case 0x62:
            return sensirionWords(device, command: [0x36, 0x82], words: 3) != nil ? "SCD4x (serial number read)" : nil
        case 0x69:
            // Datasheet SPS30: Read Product Type answers the ASCII string "00080000".
            guard let type = sensirionWords(device, command: [0xD0, 0x02], words: 4), SPS30.ascii(type) == SPS30.productType else { return nil }
            guard let serial = sensirionWords(device, command: [0xD0, 0x33], words: 16) else { return "SPS30 (product type 00080000)" }
            return "SPS30 (product type 00080000, serial \(SPS30.ascii(serial)))"
        case 0x10:
            // Vishay's datasheet 84286 lists command codes 00h–06h, no id.
            return "VEML7700? (it has no id register; 0x10 is its fixed address)"
        case 0x23, 0x5C:
            return "BH1750? (it has no id register; 0x23/0x5C are its addresses)"
        case 0x40...0x4F:
            // TI's INA260 names itself (manufacturer 5449h at FEh, die 227xh
            // at FFh); an INA219 has no id but its configuration register
            // reads 399Fh from power-on until it is configured. An ADS1115
            // (0x48–0x4B) has bit 15 of its config register set when idle.
            if let manufacturer = try? device.readBigEndianWord(0xFE), manufacturer == 0x5449,
               let die = try? device.readBigEndianWord(0xFF), die >> 4 == 0x227 {
                return "INA260 (manufacturer 0x5449, die 0x\(I2CError.hex(die)))"
            }
            if let configuration = try? device.readBigEndianWord(0x00), configuration == 0x399F {
                return "INA219? (configuration 0x399F, its reset value; it has no id register)"
            }
            guard (0x48...0x4B).contains(address), let config = try? device.readBigEndianWord(0x01), config & 0x8000 != 0 else { return nil }
            return "ADS1115/ADS1015 (config register 0x\(I2CError.hex(config)))"
        default:
            return nil
        }
    }

    private func sensirionWords(_ device: I2CDevice, command: [UInt8], words: Int) -> [UInt16]? {
        guard (try? device.write(command)) != nil else { return nil }
        sleeper.sleep(milliseconds: 1)
        guard let bytes = try? device.read(count: words * 3) else { return nil }
        return SensirionCRC.words(bytes)
    }

    private func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
