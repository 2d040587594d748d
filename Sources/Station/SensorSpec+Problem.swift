import ConfigFile
import Sensors

extension SensorSpec {
    /// A configuration problem found when the driver is made, pointing at
    /// the entry: `agent.yaml:42: sensor "rain" (rain-gauge): …`.
    func problem(_ message: String) -> SensorError {
        SensorError(code: .config, message: "\(file):\(lineNumber): sensor \"\(name)\" (\(driver)): \(message)")
    }
}
