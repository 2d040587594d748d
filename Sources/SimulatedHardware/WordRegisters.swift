/// TI's 16-bit register interface (INA219, INA260): a one-byte write sets
/// the register pointer, a three-byte write sets the pointer and writes
/// the register most significant byte first, a read returns the pointed
/// register (2 bytes, repeated for a longer read; the pointer does not move).
struct WordRegisters {
    var pointer: UInt8 = 0

    /// The register written, if the write carried a value.
    mutating func write(_ bytes: [UInt8], known: (UInt8) -> Bool) throws(SimulatedFault) -> (register: UInt8, value: UInt16)? {
        guard let register = bytes.first, known(register) else { throw .noAcknowledge }
        pointer = register
        switch bytes.count {
        case 1: return nil
        case 3: return (register, UInt16(bytes[1]) << 8 | UInt16(bytes[2]))
        default: throw .noAcknowledge
        }
    }

    static func bytes(of value: UInt16, count: Int) -> [UInt8] {
        (0..<count).map { $0 % 2 == 0 ? UInt8(value >> 8) : UInt8(value & 0xFF) }
    }
}
