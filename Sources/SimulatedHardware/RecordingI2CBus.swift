import Hardware
import Synchronization

/// Wraps a bus and records every transfer (what a driver did, in order), so
/// a test can read like the datasheet: "write 0xF4 ← 0x25, read 8 bytes from
/// 0xF7". Also useful to capture a real board's session once.
public final class RecordingI2CBus: I2CBus, Sendable {
    public struct Step: Equatable, Sendable, CustomStringConvertible {
        public var address: UInt16
        public var operations: [I2COperation]
        public var results: [[UInt8]]

        public var description: String {
            "0x\(I2CError.hex(address)): " + operations.map {
                switch $0 {
                case let .write(bytes): return "write " + bytes.map { "0x" + I2CError.hex(UInt16($0)) }.joined(separator: " ")
                case let .read(count): return "read \(count)"
                }
            }.joined(separator: ", ")
        }
    }

    public let inner: any I2CBus
    private let log = Mutex<[Step]>([])

    public init(_ inner: any I2CBus) {
        self.inner = inner
    }

    public var name: String { inner.name }
    public var supportsPlainI2C: Bool { inner.supportsPlainI2C }
    public var steps: [Step] { log.withLock { $0 } }
    public func clear() { log.withLock { $0.removeAll() } }

    public func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]] {
        let results = try inner.transaction(address: address, operations)
        log.withLock { $0.append(Step(address: address, operations: operations, results: results)) }
        return results
    }

    public func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        let result = try inner.readBlockData(address: address, register: register, count: count)
        log.withLock { $0.append(Step(address: address, operations: [.write([register]), .read(count: count)], results: [result])) }
        return result
    }

    public func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8 {
        try readBlockData(address: address, register: register, count: 1).first ?? 0
    }

    public func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError) {
        if inner.supportsPlainI2C {
            _ = try transaction(address: address, [.write([register, value])])
        } else {
            try inner.writeByteData(address: address, register: register, value: value)
            log.withLock { $0.append(Step(address: address, operations: [.write([register, value])], results: [])) }
        }
    }

    public func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16 {
        let bytes = try readBlockData(address: address, register: register, count: 2)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    public func receiveByte(address: UInt16) throws(I2CError) -> UInt8 {
        let byte = try inner.receiveByte(address: address)
        log.withLock { $0.append(Step(address: address, operations: [.read(count: 1)], results: [[byte]])) }
        return byte
    }
}

/// A sleeper that only records what it was asked to wait.
public final class RecordingSleeper: Sleeper, Sendable {
    private let waits = Mutex<[Double]>([])
    public init() {}
    public func sleep(milliseconds: Double) { waits.withLock { $0.append(milliseconds) } }
    public var total: Double { waits.withLock { $0.reduce(0, +) } }
    public var all: [Double] { waits.withLock { $0 } }
}
