/// The raw ADC value a simulated chip must hold so that the datasheet's
/// compensation gives the physical value it is set to: the compensation is
/// monotonic in the ADC value, so a bisection over the ADC's range finds
/// the closest one (Bosch's BME280 and BME680 sims use it).
enum ADCSearch {
    static func closest(in range: Range<Int>, decreasing: Bool = false, _ value: (Int) -> Double, to goal: Double) -> Int {
        var low = range.lowerBound, high = range.upperBound - 1
        while low < high {
            let middle = (low + high) / 2
            let below = decreasing ? value(middle) > goal : value(middle) < goal
            if below { low = middle + 1 } else { high = middle }
        }
        if low > range.lowerBound, abs(value(low - 1) - goal) < abs(value(low) - goal) { return low - 1 }
        return low
    }
}
