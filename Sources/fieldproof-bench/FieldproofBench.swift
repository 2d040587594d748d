import ArgumentParser

/// Benchmarks (release builds): each prints its figure next to a baseline
/// measured in the same run, and the ratio. `scripts/bench` runs them all.
@main
struct FieldproofBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fieldproof-bench",
        abstract: "Fieldproof benchmarks: each figure beside a baseline from the same run.",
        subcommands: [MQTTBench.self, WireBench.self, AggregatorBench.self, AggregatorMemoryBench.self, SensorBench.self, SpoolBench.self, ReplayBench.self, ReceiptBench.self, LogBench.self, HoldConnection.self, PublishStream.self, MakeIdentity.self]
    )
}
