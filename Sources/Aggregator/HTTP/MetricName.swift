/// A metric is `<sensor>/<quantity>` (`air/temperature`).
public enum MetricName {
    /// What follows the sensor name (a sensor name holds no '/').
    public static func quantity(_ metric: String) -> String {
        metric.split(separator: "/", maxSplits: 1).last.map(String.init) ?? metric
    }
}
