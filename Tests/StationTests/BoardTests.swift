import Foundation
import ConfigFile
import Station
import TestSupport
import Testing

@Suite struct BoardTests {
    let catalog: BoardCatalog

    init() throws {
        catalog = try BoardCatalog.load(directory: ProjectPaths.root.appendingPathComponent("boards").path)
    }

    @Test func everyBoardFileParsesAndTheRequiredBoardsAreThere() {
        let names = Set(catalog.boards.map(\.name))
        #expect(names == ["raspberry-pi-zero-2-w", "raspberry-pi-3b", "raspberry-pi-4b", "raspberry-pi-5", "raspberry-pi-cm4", "generic-linux"])
        for board in catalog.boards where board.name != BoardCatalog.genericName {
            #expect(board.i2c.first?.bus == 1, "\(board.name)")
            #expect(board.pins.count == 28, "\(board.name): the 40-pin header has 28 GPIOs")
            #expect(board.enableI2C.contains("dtparam=i2c_arm=on"), "\(board.name)")
        }
    }

    @Test(arguments: [
        ("Raspberry Pi 5 Model B Rev 1.0\0", "raspberry-pi-5", "pinctrl-rp1"),
        ("Raspberry Pi 4 Model B Rev 1.4\0", "raspberry-pi-4b", "pinctrl-bcm2711"),
        ("Raspberry Pi Compute Module 4 Rev 1.0\0", "raspberry-pi-cm4", "pinctrl-bcm2711"),
        ("Raspberry Pi 3 Model B Plus Rev 1.3\0", "raspberry-pi-3b", "pinctrl-bcm2835"),
        ("Raspberry Pi 3 Model B Rev 1.2\0", "raspberry-pi-3b", "pinctrl-bcm2835"),
        ("Raspberry Pi Zero 2 W Rev 1.0\0", "raspberry-pi-zero-2-w", "pinctrl-bcm2835"),
        ("Pine64 RockPro64 v2.1\0", "generic-linux", "gpiochip0"),
        ("", "generic-linux", "gpiochip0"),
    ])
    func detectsBoardsFromModelStrings(model: String, board: String, chip: String) {
        let detected = catalog.detect(model: model)
        #expect(detected?.name == board)
        #expect(detected?.gpioChip == chip)
    }

    @Test func headerPinsMapToBCMLinesAndOtherPinsAreNamed() throws {
        let pi4 = try #require(catalog.named("raspberry-pi-4b"))
        #expect(try pi4.line(forPin: 11) == 17)
        #expect(try pi4.line(forPin: 3) == 2, "SDA1")
        #expect(try pi4.line(forPin: 40) == 21)
        #expect(throws: BoardError("header pin 6 is ground, not a GPIO; GPIO pins on Raspberry Pi 4 Model B: 3, 5, 7, 8, 10, 11, 12, 13, 15, 16, 18, 19, 21, 22, 23, 24, 26, 27, 28, 29, 31, 32, 33, 35, 36, 37, 38, 40")) {
            try pi4.line(forPin: 6)
        }
        let generic = try #require(catalog.named("generic-linux"))
        #expect(throws: BoardError.self) { try generic.line(forPin: 11) }
    }

    @Test func explicitBoardOverridesDetectionAndUnknownNamesListTheKnownOnes() throws {
        #expect(try catalog.select("raspberry-pi-5", modelPath: "/nonexistent").name == "raspberry-pi-5")
        #expect(try catalog.select("auto", modelPath: "/nonexistent").name == "generic-linux")
        do {
            _ = try catalog.select("raspberry-pi-6")
            Issue.record("an unknown board was accepted")
        } catch {
            #expect(error.description.hasPrefix("unknown board \"raspberry-pi-6\"; known boards: "))
        }
    }

    @Test func aBrokenBoardFileNamesFileLineAndWhatIsWrong() {
        let text = """
            name: test-board
            model: "Test"
            gpio_chip: gpiochip0
            enable_i2c: modprobe i2c-dev
            pins:
              11: 17
              12: seventeen
            """
        do {
            _ = try Board.parse(text, file: "boards/test.yaml")
            Issue.record("a bad line offset was accepted")
        } catch {
            #expect(error.file == "boards/test.yaml")
            #expect(error.line == 7)
            #expect(error.description.contains("\"seventeen\" is not a line offset"), "\(error)")
        }
        #expect(throws: ConfigError.self) { try Board.parse("name: x\nmodel: y\ngpio_chip: z\nenable_i2c: w\ni2c_bus: 1\n", file: "b.yaml") }
    }
}
