/// A register map with an auto-incrementing pointer, as most register-based
/// chips (Bosch, TI) behave: a write sets the pointer and writes the rest;
/// a read returns bytes from the pointer on.
struct RegisterFile {
    var bytes = [UInt8](repeating: 0, count: 256)
    var pointer = 0

    /// Returns the registers written, so the chip can react.
    mutating func write(_ data: [UInt8]) -> [(register: UInt8, value: UInt8)] {
        guard let first = data.first else { return [] }
        pointer = Int(first)
        var written: [(UInt8, UInt8)] = []
        for value in data.dropFirst() {
            bytes[pointer & 0xFF] = value
            written.append((UInt8(pointer & 0xFF), value))
            pointer += 1
        }
        return written
    }

    mutating func read(count: Int) -> [UInt8] {
        let result = (0..<count).map { bytes[(pointer + $0) & 0xFF] }
        pointer += count
        return result
    }

    subscript(register: UInt8) -> UInt8 {
        get { bytes[Int(register)] }
        set { bytes[Int(register)] = newValue }
    }
}
