/// One part of an I2C transaction.
public enum I2COperation: Equatable, Sendable {
    case write([UInt8])
    case read(count: Int)
}

/// An I2C bus. One required method, `transaction` (a sequence of writes and
/// reads to one address with repeated starts between them, as Linux
/// `I2C_RDWR` does); the rest are built on it. Drivers take a bus and never
/// open or close one.
///
/// Adapters that cannot do plain I2C transfers (SMBus-only controllers such
/// as the kernel's i2c-stub) override the SMBus helpers and say so in
/// `supportsPlainI2C`.
public protocol I2CBus: AnyObject, Sendable {
    /// `/dev/i2c-1`, `simulated bus 1`, …
    var name: String { get }
    /// Whether `transaction` works; when false only the SMBus helpers do.
    var supportsPlainI2C: Bool { get }

    /// Runs the operations; returns one buffer per `.read`, in order.
    func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]]

    /// SMBus "read byte data": one register.
    func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8
    /// SMBus "write byte data".
    func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError)
    /// SMBus "read word data" (little-endian on the wire).
    func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16
    /// SMBus "I2C block read": up to 32 bytes from a register.
    func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8]
    /// SMBus "receive byte": a read of one byte without a register (the
    /// read-only probe `fieldproof scan` uses, like `i2cdetect -r`).
    func receiveByte(address: UInt16) throws(I2CError) -> UInt8
}

extension I2CBus {
    public var supportsPlainI2C: Bool { true }

    public func write(address: UInt16, _ bytes: [UInt8]) throws(I2CError) {
        _ = try transaction(address: address, [.write(bytes)])
    }

    public func read(address: UInt16, count: Int) throws(I2CError) -> [UInt8] {
        try transaction(address: address, [.read(count: count)]).first ?? []
    }

    /// Write, repeated start, read.
    public func writeRead(address: UInt16, _ bytes: [UInt8], count: Int) throws(I2CError) -> [UInt8] {
        try transaction(address: address, [.write(bytes), .read(count: count)]).first ?? []
    }

    public func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8 {
        try writeRead(address: address, [register], count: 1).first ?? 0
    }

    public func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError) {
        try write(address: address, [register, value])
    }

    public func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16 {
        let bytes = try writeRead(address: address, [register], count: 2)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    public func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        try writeRead(address: address, [register], count: count)
    }

    public func receiveByte(address: UInt16) throws(I2CError) -> UInt8 {
        try read(address: address, count: 1).first ?? 0
    }
}

/// A device at one address on a bus: what a driver holds.
public struct I2CDevice: Sendable {
    public let bus: any I2CBus
    public let address: UInt16

    public init(bus: any I2CBus, address: UInt16) {
        self.bus = bus
        self.address = address
    }

    public func write(_ bytes: [UInt8]) throws(I2CError) { try bus.write(address: address, bytes) }
    public func read(count: Int) throws(I2CError) -> [UInt8] { try bus.read(address: address, count: count) }
    public func writeRead(_ bytes: [UInt8], count: Int) throws(I2CError) -> [UInt8] {
        try bus.writeRead(address: address, bytes, count: count)
    }

    public func readRegister(_ register: UInt8) throws(I2CError) -> UInt8 {
        try bus.readByteData(address: address, register: register)
    }

    /// A 16-bit register sent most significant byte first, as TI's chips
    /// (INA219, INA260, ADS1115) do: pointer write, repeated start, 2 bytes.
    /// (SMBus "read word" is little-endian, so it is not used here.)
    public func readBigEndianWord(_ register: UInt8) throws(I2CError) -> UInt16 {
        let bytes = try writeRead([register], count: 2)
        guard bytes.count == 2 else {
            throw I2CError(kind: .bus, bus: bus.name, address: address, detail: "read \(bytes.count) of 2 bytes of register 0x\(I2CError.hex(UInt16(register)))")
        }
        return UInt16(bytes[0]) << 8 | UInt16(bytes[1])
    }

    /// Pointer, then the 16-bit value most significant byte first.
    public func writeBigEndianWord(_ register: UInt8, _ value: UInt16) throws(I2CError) {
        try write([register, UInt8(value >> 8), UInt8(value & 0xFF)])
    }

    public func writeRegister(_ register: UInt8, _ value: UInt8) throws(I2CError) {
        try bus.writeByteData(address: address, register: register, value: value)
    }

    /// `count` consecutive registers from `start`: one write-read where the
    /// adapter can, else SMBus block reads of up to 32 bytes (the BME280's
    /// auto-increment makes both the same on the wire for the chip).
    public func readRegisters(_ start: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        if bus.supportsPlainI2C { return try bus.writeRead(address: address, [start], count: count) }
        var result: [UInt8] = []
        var register = Int(start)
        while result.count < count {
            let chunk = min(32, count - result.count)
            result += try bus.readBlockData(address: address, register: UInt8(register & 0xFF), count: chunk)
            register += chunk
        }
        return result
    }

    public var description: String { "0x\(I2CError.hex(address)) on \(bus.name)" }
}
