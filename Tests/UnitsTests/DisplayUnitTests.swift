import Testing
import Units

@Suite struct DisplayUnitTests {
    @Test func siValuesAreShownInTheUnitsPeopleRead() {
        #expect(UnitSystem.display.text(294.65, unit: "K") == "21.50 °C")
        #expect(UnitSystem.display.text(101_325, unit: "Pa") == "1013.25 hPa")
        #expect(UnitSystem.display.text(45.04, unit: "%") == "45.0 %")
        #expect(UnitSystem.display.text(812.54, unit: "lx") == "812.5 lx")
        #expect(UnitSystem.display.text(1.234e-8, unit: "kg/m3") == "12.3 µg/m³", "12.34 µg/m³")
        #expect(UnitSystem.display.text(31_400_000, unit: "1/m3") == "31.4 /cm³")
        #expect(UnitSystem.display.text(5.4e-7, unit: "m", quantity: "typical_particle_size") == "0.54 µm")
        #expect(UnitSystem.display.text(152_300, unit: "Ohm") == "152.3 kΩ")
        #expect(UnitSystem.display.text(12.0456, unit: "V") == "12.046 V")
        #expect(UnitSystem.display.text(-0.0125, unit: "A") == "-0.013 A", "half away from zero")
        #expect(UnitSystem.display.text(612.4, unit: "ppm") == "612 ppm")
        #expect(UnitSystem.display.text(3, unit: "1") == "3" && UnitSystem.display.text(0.5, unit: "1") == "0.5", "a count, and a state's mean")
        #expect(UnitSystem.display.text(2.5, unit: "furlong") == "2.500 furlong", "an unknown unit is shown as it is")
    }

    @Test func siSystemKeepsTheRawValue() {
        #expect(UnitSystem.si.text(294.65, unit: "K") == "294.65 K")
        #expect(UnitSystem.si.text(1.234e-8, unit: "kg/m3") == "1.234e-08 kg/m3")
    }

    @Test func belowZeroAndRoundingEdges() {
        #expect(DisplayUnit.forSI("K").text(263.15) == "-10.00 °C")
        #expect(DisplayUnit.forSI("K").text(273.149) == "0.00 °C", "no minus on a value that rounds to zero")
        #expect(DisplayUnit.fixed(0.05, decimals: 1) == "0.1")
        #expect(DisplayUnit.fixed(-0.004, decimals: 2) == "0.00")
        #expect(DisplayUnit.fixed(1e300, decimals: 2) == "1e+300")
        #expect(DisplayUnit.fixed(.nan, decimals: 2) == "nan")
        #expect(DisplayUnit.fixed(7, decimals: 3) == "7.000")
    }

    /// A tally's sum in °C counts the offset once per value.
    @Test func sumsOfAffineUnits() {
        let celsius = DisplayUnit.forSI("K")
        let sum = celsius.sum(293.15 + 303.15, count: 2)
        #expect(abs(sum - 50) < 1e-9)
        #expect(DisplayUnit.forSI("Pa").sum(200_000, count: 2) == 2000)
    }
}
