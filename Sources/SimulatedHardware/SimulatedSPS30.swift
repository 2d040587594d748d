import Synchronization

/// SPS30 at the command level (datasheet v1.0, I2C commands): Idle- and
/// Measurement-Mode, start (float 0x03 or uint16 0x05 format) and stop, the
/// data-ready flag, measured values, the auto-cleaning interval (read and
/// write, words CRC-checked as the chip checks them), fan cleaning, product
/// type, serial number, firmware version, device status (read, clear) and
/// reset. Commands not allowed in the current mode are NACKed. The
/// environment (mass and number concentrations, typical size) and the
/// status bits are settable; a new measurement is "ready" on every query
/// unless `alwaysReady` is off, then after each `markMeasurementReady()`.
public final class SimulatedSPS30: SimulatedI2CChip, Sendable {
    public struct Environment: Equatable, Sendable {
        /// PM1.0, PM2.5, PM4.0, PM10 in µg/m³.
        public var mass: [Double]
        /// PM0.5, PM1.0, PM2.5, PM4.0, PM10 in #/cm³.
        public var number: [Double]
        /// µm.
        public var typicalSize: Double

        public init(mass: [Double], number: [Double], typicalSize: Double) {
            self.mass = mass
            self.number = number
            self.typicalSize = typicalSize
        }

        /// Clean indoor air.
        public static let indoor = Environment(mass: [4.2, 6.1, 7.0, 7.4], number: [28.5, 33.6, 34.1, 34.2, 34.2], typicalSize: 0.52)
    }

    struct State {
        var environment: Environment
        var measuring = false
        var floats = true
        var ready = false
        var readyEveryQuery: Bool
        var cleaningInterval: UInt32 = 604_800
        var status: UInt32 = 0
        var fanCleanings = 0
        var resets = 0
        var reply: [UInt8] = []
        var corruptReplies = 0
    }

    private let state: Mutex<State>
    public let productType: String
    public let serialNumber: String
    public let firmware: (major: UInt8, minor: UInt8)

    public init(_ environment: Environment = .indoor, alwaysReady: Bool = true, productType: String = "00080000",
                serialNumber: String = "3A1F6C2E9B7D4051", firmware: (major: UInt8, minor: UInt8) = (2, 2)) {
        state = Mutex(State(environment: environment, readyEveryQuery: alwaysReady))
        self.productType = productType
        self.serialNumber = serialNumber
        self.firmware = firmware
    }

    public func set(_ environment: Environment) { state.withLock { $0.environment = environment } }
    public func markMeasurementReady() { state.withLock { $0.ready = true } }
    /// Sets device status bits (4 fan error, 5 laser error, 21 fan speed warning).
    public func setStatus(_ bits: UInt32) { state.withLock { $0.status = bits } }
    /// The next `count` replies carry a wrong CRC.
    public func corruptNextReplies(_ count: Int) { state.withLock { $0.corruptReplies = count } }

    public var isMeasuring: Bool { state.withLock { $0.measuring } }
    public var cleaningInterval: UInt32 { state.withLock { $0.cleaningInterval } }
    public var status: UInt32 { state.withLock { $0.status } }
    public var fanCleanings: Int { state.withLock { $0.fanCleanings } }
    public var resets: Int { state.withLock { $0.resets } }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard bytes.count >= 2 else { throw .noAcknowledge }
            let command = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
            let arguments = try Self.words(Array(bytes.dropFirst(2)))
            var reply: [UInt16]?
            switch (command, arguments.count) {
            case (0x0010, 1): // start measurement
                guard !state.measuring else { throw .noAcknowledge }
                switch arguments[0] >> 8 {
                case 0x03: state.floats = true
                case 0x05: state.floats = false
                default: throw .noAcknowledge
                }
                state.measuring = true
                state.ready = false
            case (0x0104, 0): // stop measurement
                guard state.measuring else { throw .noAcknowledge }
                state.measuring = false
            case (0x0202, 0): // read data-ready flag
                reply = [state.measuring && (state.ready || state.readyEveryQuery) ? 0x0001 : 0x0000]
            case (0x0300, 0): // read measured values
                guard state.measuring else { throw .noAcknowledge }
                reply = Self.measurement(state.environment, floats: state.floats)
                state.ready = false
            case (0x8004, 0): // read auto cleaning interval
                reply = [UInt16(state.cleaningInterval >> 16), UInt16(state.cleaningInterval & 0xFFFF)]
            case (0x8004, 2): // write auto cleaning interval
                state.cleaningInterval = UInt32(arguments[0]) << 16 | UInt32(arguments[1])
            case (0x5607, 0): // start fan cleaning
                guard state.measuring else { throw .noAcknowledge }
                state.fanCleanings += 1
            case (0xD002, 0):
                reply = Self.asciiWords(productType, words: 4)
            case (0xD033, 0):
                reply = Self.asciiWords(serialNumber, words: 16)
            case (0xD100, 0):
                reply = [UInt16(firmware.major) << 8 | UInt16(firmware.minor)]
            case (0xD206, 0), (0xD210, 0): // read / clear device status, firmware 2.2 and later
                guard firmware.major > 2 || firmware.major == 2 && firmware.minor >= 2 else { throw .noAcknowledge }
                if command == 0xD206 {
                    reply = [UInt16(state.status >> 16), UInt16(state.status & 0xFFFF)]
                } else {
                    state.status = 0
                }
            case (0xD304, 0): // reset
                state.measuring = false
                state.ready = false
                state.status = 0
                state.resets += 1
            default:
                throw .noAcknowledge
            }
            let corrupt = reply != nil && state.corruptReplies > 0
            if corrupt { state.corruptReplies -= 1 }
            state.reply = reply.map { SensirionWords.encode($0, corruptFirstCRC: corrupt) } ?? []
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            // A read returns the reply from its start (fewer bytes may be read); nothing pending: NACK.
            guard count <= state.reply.count else { throw .noAcknowledge }
            return Array(state.reply.prefix(count))
        }
    }

    /// Words written after a command, each CRC-checked: a wrong CRC is NACKed.
    static func words(_ bytes: [UInt8]) throws(SimulatedFault) -> [UInt16] {
        guard bytes.count % 3 == 0 else { throw .noAcknowledge }
        var words: [UInt16] = []
        for index in stride(from: 0, to: bytes.count, by: 3) {
            guard SensirionWords.crc([bytes[index], bytes[index + 1]]) == bytes[index + 2] else { throw .noAcknowledge }
            words.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
        }
        return words
    }

    static func asciiWords(_ text: String, words: Int) -> [UInt16] {
        let bytes = Array(text.utf8.prefix(2 * words)) + [UInt8](repeating: 0, count: 2 * words)
        return (0..<words).map { UInt16(bytes[2 * $0]) << 8 | UInt16(bytes[2 * $0 + 1]) }
    }

    /// Ten big-endian floats (two words each), or ten uint16 (µg/m³, #/cm³, nm).
    static func measurement(_ environment: Environment, floats: Bool) -> [UInt16] {
        let values = environment.mass + environment.number + [environment.typicalSize]
        if floats {
            return values.flatMap { value -> [UInt16] in
                let bits = Float(value).bitPattern
                return [UInt16(bits >> 16), UInt16(bits & 0xFFFF)]
            }
        }
        return values.enumerated().map { index, value in
            let scaled = index == values.count - 1 ? value * 1000 : value
            return scaled.isFinite ? UInt16(max(0, min(65535, scaled.rounded()))) : 0
        }
    }
}
