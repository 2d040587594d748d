import ConfigFile

/// A board definition from `boards/*.yaml`: how its header pins map to GPIO
/// lines, which I2C buses it has, and how to enable I2C on it.
public struct Board: Equatable, Sendable {
    public struct I2CBusPins: Equatable, Sendable {
        public var bus: Int
        public var sdaPin: Int?
        public var sclPin: Int?

        public init(bus: Int, sdaPin: Int? = nil, sclPin: Int? = nil) {
            self.bus = bus
            self.sdaPin = sdaPin
            self.sclPin = sclPin
        }
    }

    public var name: String
    public var description: String
    /// A prefix of `/proc/device-tree/model`; empty for the generic board.
    public var model: String
    /// The GPIO chip's label (or name), as `gpiodetect` shows it.
    public var gpioChip: String
    public var i2c: [I2CBusPins]
    public var enableI2C: String
    /// Header pin → line offset on `gpioChip`.
    public var pins: [Int: Int]
    public var file: String

    public init(name: String, description: String, model: String, gpioChip: String, i2c: [I2CBusPins], enableI2C: String,
                pins: [Int: Int], file: String) {
        self.name = name
        self.description = description
        self.model = model
        self.gpioChip = gpioChip
        self.i2c = i2c
        self.enableI2C = enableI2C
        self.pins = pins
        self.file = file
    }

    public static func parse(_ text: String, file: String) throws(ConfigError) -> Board {
        let root = try ConfigSection.root(text: text, file: file)
        let name = try root.string("name", default: nil, example: "name: raspberry-pi-4b")
        var board = Board(
            name: name,
            description: try root.string("description", default: name),
            model: try root.string("model", default: nil, example: "model: \"Raspberry Pi 4 Model B\""),
            gpioChip: try root.string("gpio_chip", default: nil, example: "gpio_chip: pinctrl-bcm2711"),
            i2c: [], enableI2C: "", pins: [:], file: file)
        board.enableI2C = try root.string("enable_i2c", default: nil, example: "enable_i2c: run `sudo raspi-config nonint do_i2c 0`")
        for entry in try root.sections("i2c") {
            board.i2c.append(I2CBusPins(
                bus: try entry.int("bus", default: nil, in: 0...255, example: "bus: 1"),
                sdaPin: try entry.int("sda_pin", in: 1...40, example: "sda_pin: 3"),
                sclPin: try entry.int("scl_pin", in: 1...40, example: "scl_pin: 5")))
            try entry.finish()
        }
        if let pins = try root.section("pins") {
            for (pin, line) in try root.scalars("pins") {
                guard let header = Int(pin), (1...40).contains(header) else {
                    throw pins.error(pin, "a header pin is a number from 1 to 40", example: "11: 17")
                }
                guard let offset = Int(line), offset >= 0 else {
                    throw pins.error(pin, "\"\(line)\" is not a line offset (a number ≥ 0)", example: "\(pin): 17")
                }
                if let used = board.pins.first(where: { $0.value == offset }) {
                    throw pins.error(pin, "line \(offset) is already header pin \(used.key)")
                }
                board.pins[header] = offset
            }
        }
        try root.finish()
        return board
    }

    /// The line offset of header `pin`, or an error naming the pins there are.
    public func line(forPin pin: Int) throws(BoardError) -> Int {
        if let line = pins[pin] { return line }
        if pins.isEmpty {
            throw BoardError("board \(name) has no header map (\(file)): configure the sensor with `chip:` and `line:` instead of `pin:`")
        }
        let power: [Int: String] = [1: "3.3 V", 17: "3.3 V", 2: "5 V", 4: "5 V", 6: "ground", 9: "ground", 14: "ground",
                                    20: "ground", 25: "ground", 30: "ground", 34: "ground", 39: "ground"]
        let what = power[pin].map { "header pin \(pin) is \($0), not a GPIO" } ?? "board \(name) has no GPIO on header pin \(pin)"
        throw BoardError("\(what); GPIO pins on \(description): \(pins.keys.sorted().map(String.init).joined(separator: ", "))")
    }
}

public struct BoardError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
