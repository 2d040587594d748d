import CI2C
import Synchronization
#if canImport(Glibc)
import Glibc
import LinuxService
#endif

/// `/dev/i2c-N` through the kernel's i2c-dev interface: `I2C_RDWR` for
/// transactions (repeated starts), libi2c's SMBus calls for adapters that
/// lack plain I2C (checked with `I2C_FUNCS` when the bus opens).
public final class LinuxI2CBus: I2CBus, @unchecked Sendable {
    public let name: String
    public let number: Int
    public let functionality: UInt
    private let fd: Int32
    /// The slave address the fd is set to (SMBus calls need `I2C_SLAVE`);
    /// its lock also guards every use of `fd`.
    private let selected = Mutex<UInt16?>(nil)

    public var supportsPlainI2C: Bool { functionality & UInt(I2C_FUNC_I2C) != 0 }

    /// Opens `/dev/i2c-<number>` (or `path`), with errors that say how to fix them.
    public init(number: Int, path: String? = nil) throws(I2CError) {
        let path = path ?? "/dev/i2c-\(number)"
        self.name = path
        self.number = number
        let fd: Int32
        do {
            fd = try FileIO.open(path, .readWrite).rawValue
        } catch {
            throw Self.openError(path: path, code: error.errno.rawValue)
        }
        var funcs: UInt = 0
        guard fieldproof_i2c_funcs(fd, &funcs) == 0 else {
            let code = errno
            close(fd)
            throw I2CError(kind: .other, bus: path, address: nil, errno: code,
                           detail: "\(path) is not an I2C adapter (I2C_FUNCS failed: \(String(cString: strerror(code))))")
        }
        self.fd = fd
        self.functionality = funcs
    }

    deinit {
        close(fd)
    }

    static func openError(path: String, code: Int32) -> I2CError {
        switch code {
        case ENOENT:
            return I2CError(kind: .missingBus, bus: path, address: nil, errno: code, detail: """
                \(path) does not exist: I2C is not enabled. On a Raspberry Pi add `dtparam=i2c_arm=on` to \
                /boot/firmware/config.txt (or run `sudo raspi-config` → Interface Options → I2C) and reboot; \
                elsewhere load the driver with `sudo modprobe i2c-dev` and enable the bus in the device tree
                """)
        case EACCES, EPERM:
            return I2CError(kind: .permissionDenied, bus: path, address: nil, errno: code,
                            detail: "no permission to open \(path): add the user to the i2c group (`sudo usermod -aG i2c $USER`, then log in again)")
        default:
            return I2CError(kind: I2CError.kind(forErrno: code), bus: path, address: nil, errno: code,
                            detail: "cannot open \(path): \(String(cString: strerror(code)))")
        }
    }

    func failure(_ code: Int32, address: UInt16, operation: String) -> I2CError {
        I2CError(kind: I2CError.kind(forErrno: code), bus: name, address: address, errno: code,
                 detail: "\(operation) at 0x\(I2CError.hex(address)) on \(name) failed: \(String(cString: strerror(code)))")
    }

    private func locked<T>(_ body: (inout UInt16?) throws(I2CError) -> sending T) throws(I2CError) -> sending T {
        try selected.withLock { (selected) throws(I2CError) -> sending T in try body(&selected) }
    }

    public func transaction(address: UInt16, _ operations: [I2COperation]) throws(I2CError) -> [[UInt8]] {
        guard supportsPlainI2C else {
            throw I2CError(kind: .unsupported, bus: name, address: address,
                           detail: "\(name) cannot do plain I2C transfers (SMBus only, I2C_FUNCS lacks I2C_FUNC_I2C); this driver needs them")
        }
        return try locked { (_) throws(I2CError) -> [[UInt8]] in
            var buffers: [[UInt8]] = operations.map {
                switch $0 {
                case let .write(bytes): return bytes
                case let .read(count): return [UInt8](repeating: 0, count: count)
                }
            }
            let code: Int32 = buffers.withUnsafeMutableBufferPointer { buffersPointer in
                var messages: [i2c_msg] = []
                var pointers: [UnsafeMutablePointer<UInt8>] = []
                for index in buffersPointer.indices {
                    let count = buffersPointer[index].count
                    let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, count))
                    storage.initialize(from: buffersPointer[index], count: count)
                    pointers.append(storage)
                    let isRead: Bool
                    if case .read = operations[index] { isRead = true } else { isRead = false }
                    messages.append(i2c_msg(addr: address, flags: isRead ? UInt16(I2C_M_RD) : 0, len: UInt16(count), buf: storage))
                }
                defer {
                    for (index, storage) in pointers.enumerated() {
                        buffersPointer[index] = Array(UnsafeBufferPointer(start: storage, count: buffersPointer[index].count))
                        storage.deallocate()
                    }
                }
                let rc = messages.withUnsafeMutableBufferPointer { fieldproof_i2c_rdwr(fd, $0.baseAddress, UInt32($0.count)) }
                return rc < 0 ? errno : 0
            }
            if code != 0 { throw failure(code, address: address, operation: "transfer") }
            return zip(operations, buffers).compactMap { operation, buffer in
                if case .read = operation { return buffer }
                return nil
            }
        }
    }

    private func select(_ address: UInt16, selected: inout UInt16?) throws(I2CError) {
        if selected == address { return }
        guard fieldproof_i2c_set_slave(fd, Int(address)) == 0 else {
            let code = errno
            throw I2CError(kind: code == EBUSY ? .bus : I2CError.kind(forErrno: code), bus: name, address: address, errno: code,
                           detail: code == EBUSY ? "0x\(I2CError.hex(address)) on \(name) is claimed by a kernel driver"
                                                 : "cannot select 0x\(I2CError.hex(address)) on \(name): \(String(cString: strerror(code)))")
        }
        selected = address
    }

    private func smbus(_ address: UInt16, _ operation: String, _ call: () -> Int32) throws(I2CError) -> Int32 {
        try locked { (selected) throws(I2CError) -> Int32 in
            try select(address, selected: &selected)
            let rc = call()
            if rc < 0 { throw failure(errno, address: address, operation: operation) }
            return rc
        }
    }

    public func readByteData(address: UInt16, register: UInt8) throws(I2CError) -> UInt8 {
        guard !supportsPlainI2C else { return try writeRead(address: address, [register], count: 1).first ?? 0 }
        return UInt8(truncatingIfNeeded: try smbus(address, "SMBus read byte data") { i2c_smbus_read_byte_data(fd, register) })
    }

    public func writeByteData(address: UInt16, register: UInt8, value: UInt8) throws(I2CError) {
        guard !supportsPlainI2C else { return try write(address: address, [register, value]) }
        _ = try smbus(address, "SMBus write byte data") { i2c_smbus_write_byte_data(fd, register, value) }
    }

    public func readWordData(address: UInt16, register: UInt8) throws(I2CError) -> UInt16 {
        guard !supportsPlainI2C else {
            let bytes = try writeRead(address: address, [register], count: 2)
            return UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        }
        return UInt16(truncatingIfNeeded: try smbus(address, "SMBus read word data") { i2c_smbus_read_word_data(fd, register) })
    }

    public func readBlockData(address: UInt16, register: UInt8, count: Int) throws(I2CError) -> [UInt8] {
        guard !supportsPlainI2C else { return try writeRead(address: address, [register], count: count) }
        var buffer = [UInt8](repeating: 0, count: 32)
        let length = UInt8(min(32, max(0, count)))
        let got = try smbus(address, "SMBus block read") { buffer.withUnsafeMutableBufferPointer { i2c_smbus_read_i2c_block_data(fd, register, length, $0.baseAddress) } }
        guard got == Int32(length) else {
            throw I2CError(kind: .bus, bus: name, address: address, detail: "short SMBus block read at 0x\(I2CError.hex(address)) on \(name): \(got) of \(length) bytes")
        }
        return Array(buffer.prefix(Int(length)))
    }

    public func receiveByte(address: UInt16) throws(I2CError) -> UInt8 {
        UInt8(truncatingIfNeeded: try smbus(address, "SMBus receive byte") { i2c_smbus_read_byte(fd) })
    }
}
