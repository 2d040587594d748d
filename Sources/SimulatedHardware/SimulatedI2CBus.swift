import Hardware
import Synchronization

/// A chip on a simulated bus. It sees what a real chip sees: the bytes of
/// each write and each read, in order, with repeated starts between them.
public protocol SimulatedI2CChip: AnyObject, Sendable {
    /// A write (the first byte is usually a register or command).
    func write(_ bytes: [UInt8]) throws(SimulatedFault)
    /// A read of `count` bytes.
    func read(count: Int) throws(SimulatedFault) -> [UInt8]
}

/// A failure a simulated chip (or the test) injects, as the bus reports it.
public enum SimulatedFault: Error, Equatable, Sendable {
    /// The chip NACKs (a command it does not know, or busy).
    case noAcknowledge
    /// The transfer breaks (EIO).
    case io
}

/// A simulated I2C bus hosting simulated chips by address, with fault
/// injection: no-ACK at an address, EIO after N more transfers, removal and
/// re-adding of a chip. Drivers run on it unchanged.
public final class SimulatedI2CBus: I2CBus, Sendable {
    public let name: String
    public let supportsPlainI2C: Bool

    private struct State {
        var chips: [UInt16: any SimulatedI2CChip] = [:]
        var silenced: Set<UInt16> = []
        var failAfter: [UInt16: Int] = [:]
        var transactions = 0
    }

    private let state = Mutex(State())

    public init(name: String = "simulated i2c-1", supportsPlainI2C: Bool = true) {
        self.name = name
        self.supportsPlainI2C = supportsPlainI2C
    }

    public func attach(_ chip: any SimulatedI2CChip, at address: UInt16) {
        state.withLock { $0.chips[address] = chip }
    }

    /// Unplugs the chip (it stops acknowledging); `attach` puts it back.
    @discardableResult
    public func detach(at address: UInt16) -> (any SimulatedI2CChip)? {
        state.withLock { $0.chips.removeValue(forKey: address) }
    }

    /// The chip stays but stops acknowledging its address (loose wire).
    public func silence(_ address: UInt16, _ silenced: Bool = true) {
        state.withLock { if silenced { $0.silenced.insert(address) } else { $0.silenced.remove(address) } }
    }

    /// After `transfers` more successful messages to `address`, the next one fails with EIO.
    public func failWithIO(at address: UInt16, after transfers: Int) {
        state.withLock { $0.failAfter[address] = transfers }
    }

    /// Transactions run so far (a driver's cost per reading).
    public var transactionCount: Int { state.withLock { $0.transactions } }

    public var addresses: [UInt16] { state.withLock { $0.chips.keys.sorted() } }

    private func chip(_ address: UInt16) throws(I2CError) -> any SimulatedI2CChip {
        let found = state.withLock { state -> (any SimulatedI2CChip)? in
            state.transactions += 1
            return state.silenced.contains(address) ? nil : state.chips[address]
        }
        guard let found else {
            throw I2CError(kind: .noAcknowledgeAddress, bus: name, address: address, errno: ENXIO, detail: "")
        }
        return found
    }

    private func checkInjectedIO(_ address: UInt16) throws(I2CError) {
        let fail = state.withLock { state -> Bool in
            guard let left = state.failAfter[address] else { return false }
            if left <= 0 {
                state.failAfter[address] = nil
                return true
            }
            state.failAfter[address] = left - 1
            return false
        }
        if fail {
            throw I2CError(kind: .bus, bus: name, address: address, errno: EIO,
                           detail: "transfer at 0x\(I2CError.hex(address)) on \(name) failed: Input/output error")
        }
    }

    private func run(_ address: UInt16, _ body: (any SimulatedI2CChip) throws(SimulatedFault) -> [UInt8]?) throws(I2CError) -> [UInt8]? {
        let chip = try chip(address)
        try checkInjectedIO(address)
        do {
            return try body(chip)
        } catch {
            switch error {
            case .noAcknowledge: throw I2CError(kind: .noAcknowledgeData, bus: name, address: address, errno: ENODEV, detail: "")
            case .io: throw I2CError(kind: .bus, bus: name, address: address, errno: EIO,
                                     detail: "transfer at 0x\(I2CError.hex(address)) on \(name) failed: Input/output error")
            }
        }
    }

    public func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]] {
        guard supportsPlainI2C else {
            throw I2CError(kind: .unsupported, bus: name, address: address, detail: "\(name) cannot do plain I2C transfers (SMBus only)")
        }
        var reads: [[UInt8]] = []
        for operation in operations {
            switch operation {
            case let .write(bytes):
                _ = try run(address) { chip throws(SimulatedFault) in try chip.write(bytes); return nil }
            case let .read(count):
                reads.append(try run(address) { chip throws(SimulatedFault) in try chip.read(count: count) } ?? [])
            }
        }
        return reads
    }

    // SMBus transfers, for a bus without plain I2C (like the kernel's i2c-stub).
    public func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8 {
        try readBlockData(address: address, register: register, count: 1).first ?? 0
    }

    public func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError) {
        _ = try run(address) { chip throws(SimulatedFault) in try chip.write([register, value]); return nil }
    }

    public func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16 {
        let bytes = try readBlockData(address: address, register: register, count: 2)
        return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
    }

    public func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        try run(address) { chip throws(SimulatedFault) in
            try chip.write([register])
            return try chip.read(count: count)
        } ?? []
    }

    public func receiveByte(address: UInt16) throws(I2CError) -> UInt8 {
        try run(address) { chip throws(SimulatedFault) in try chip.read(count: 1) }?.first ?? 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
