// swift-tools-version:6.1
// Fieldproof: signed sensor readings from small Linux boards, verified and
// tallied by an aggregator. See README.md for the layout.
import PackageDescription

let package = Package(
    name: "Fieldproof",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "fieldproof", targets: ["fieldproof"]),
        .executable(name: "fieldproof-bench", targets: ["fieldproof-bench"]),
        .executable(name: "fieldproof-aggregator", targets: ["fieldproof-aggregator"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Identity", targets: ["Identity"]),
        .library(name: "Hardware", targets: ["Hardware"]),
        .library(name: "Sensors", targets: ["Sensors"]),
    ],
    // Simulation: the simulated station in `fieldproof` (what `simulate: true`
    // needs). The installed daemon is built without it (scripts/build-daemon).
    traits: [
        .trait(name: "Simulation", description: "Link the simulated station into fieldproof (simulate: true, --simulate, the demo)."),
        .default(enabledTraits: ["Simulation"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.2"),
        // The HTTP client of witness collection and `fieldproof-aggregator audit` (already in the graph through Hummingbird's tests).
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        // Tests only: clocks a test moves by hand (TestClock) or that never wait (ImmediateClock).
        .package(url: "https://github.com/pointfreeco/swift-clocks.git", from: "1.0.0"),
    ],
    targets: [
        // C libraries enter only here, each wrapped once by one Swift module.
        .systemLibrary(name: "CI2C", providers: [.apt(["libi2c-dev"])]),
        .systemLibrary(name: "CGPIOD", pkgConfig: "libgpiod", providers: [.apt(["libgpiod-dev"])]),
        .systemLibrary(name: "CMosquitto", pkgConfig: "libmosquitto", providers: [.apt(["libmosquitto-dev"])]),
        .systemLibrary(name: "CLinuxSupport"),
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),

        // Configuration files (YAML through libyaml) with file:line:column errors.
        .target(name: "ConfigFile", dependencies: ["CYAML"]),

        // The one MQTT client (the only code that calls libmosquitto).
        .target(name: "MQTT", dependencies: ["CMosquitto", "CLinuxSupport", "LinuxService"]),

        // The verifiable log's parts in the formats Certificate Transparency
        // and Go's checksum database use: RFC 6962 hashing and proofs, C2SP
        // signed notes and checkpoints (issue 16).
        .target(name: "TransparencyLog", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // A witness that cosigns a log's checkpoints only while it grows (c2sp.org/tlog-witness).
        .executableTarget(name: "fieldproof-witness", dependencies: [
            "TransparencyLog", "ConfigFile", "Identity", "LinuxService",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),

        // Wire format (CBOR, COSE_Sign1, messages) and identity (keys, PIN, pairing).
        .target(name: "Wire", dependencies: ["TransparencyLog", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "Identity", dependencies: [
            "Wire", "LinuxService",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ]),

        // Bus protocols with their Linux back-ends; drivers; simulated chips.
        .target(name: "Hardware", dependencies: ["CI2C", "CGPIOD", "LinuxService", .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "Sensors", dependencies: ["Hardware", "LinuxService"]),
        // How SI values are shown to people (°C, hPa, µg/m³): the one table
        // every human-facing output of both binaries converts through.
        .target(name: "Units"),
        .target(name: "SimulatedHardware", dependencies: ["Hardware"]),
        // Runs inside the hardware-in-the-loop guest (scripts/hil).
        .executableTarget(name: "fieldproof-hil", dependencies: ["Hardware", "Sensors", "SimulatedHardware"]),
        // A station: board files, configured sensors made into drivers, bus scanning.
        .target(name: "Station", dependencies: ["Hardware", "Sensors", "ConfigFile", "LinuxService"]),
        // The simulated station (`simulate: true`, `--simulate`, the demo): one
        // of each chip on a simulated bus. Linked into `fieldproof` only with
        // the Simulation trait (on by default; scripts/build-daemon builds the
        // installed binary without it).
        .target(name: "SimulatedStation", dependencies: ["Station", "Hardware", "SimulatedHardware", "LinuxService"]),

        // What both binaries use as Linux services: systemd notify and
        // watchdog, glibc malloc settings, file I/O with errno, the wall
        // clock, and the one retry schedule (Backoff).
        .target(name: "LinuxService", dependencies: ["CLinuxSupport", .product(name: "SystemPackage", package: "swift-system")]),

        // The device daemon's machinery: spool, sequence numbers, status.
        .target(name: "Agent", dependencies: [
            "MQTT", "ConfigFile", "CLinuxSupport", "LinuxService", "Wire", "TransparencyLog", .product(name: "Logging", package: "swift-log"),
            .product(name: "SystemPackage", package: "swift-system"),
        ]),

        // Device binary: daemon and the technician's commands.
        .executableTarget(name: "fieldproof", dependencies: [
            "Agent", "LinuxService", "MQTT", "ConfigFile", "Wire", "Identity", "Hardware", "Sensors", "Station", "TransparencyLog", "Units",
            .target(name: "SimulatedStation", condition: .when(traits: ["Simulation"])),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),

        // The aggregator: verification pipeline, tallies, HTTP API and dashboard.
        .target(name: "Aggregator", dependencies: [
            "ConfigFile", "MQTT", "LinuxService", "TransparencyLog", "Units",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The aggregator's stores: SQLite (GRDB) and PostgreSQL (PostgresNIO).
        .target(name: "AggregatorStore", dependencies: [
            "Aggregator", "LinuxService", "MQTT", "Wire", "Identity", "TransparencyLog", .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),

        // The aggregator binary: the service and the operator's commands.
        .executableTarget(name: "fieldproof-aggregator", dependencies: [
            "Aggregator", "AggregatorStore", "LinuxService", "ConfigFile", "Identity", "MQTT", "Wire", "TransparencyLog", "Units",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),

        // libFuzzer target over the decoder, the verifier and the SQLite store (scripts/fuzz); in a
        // normal build it replays the committed corpus.
        .executableTarget(name: "fieldproof-fuzz", dependencies: ["Wire", "Aggregator", "AggregatorStore",
                                                             .product(name: "Crypto", package: "swift-crypto")]),

        // Used only by tests and benchmarks: a real mosquitto started per test.
        .target(name: "TestSupport", dependencies: ["MQTT", .product(name: "Subprocess", package: "swift-subprocess"), .product(name: "SystemPackage", package: "swift-system")]),
        .executableTarget(name: "fieldproof-bench", dependencies: [
            "MQTT", "TestSupport", "Wire", "Identity", "Agent", "LinuxService", "Aggregator", "AggregatorStore", .product(name: "Logging", package: "swift-log"), "Hardware", "Sensors", "SimulatedHardware", "Station", "SimulatedStation", "ConfigFile", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // Depends on fieldproof-bench so the child-process helper it carries is built.
        // Depends on fieldproof so the binary is built for the unit-file checks.
        .testTarget(name: "WireTests", dependencies: ["Wire"]),
        .testTarget(name: "TransparencyLogTests", dependencies: ["TransparencyLog", "TestSupport", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "HardwareTests", dependencies: ["Hardware", "SimulatedHardware", "TestSupport"]),
        .testTarget(name: "StationTests", dependencies: ["Station", "SimulatedStation", "Sensors", "Hardware", "SimulatedHardware", "ConfigFile", "TestSupport"]),
        .testTarget(name: "UnitsTests", dependencies: ["Units"]),
        .testTarget(name: "SensorsTests", dependencies: ["Sensors", "Hardware", "SimulatedHardware"]),
        // With Python's pycose and cbor2 (scripts/test installs them into .venv).
        .testTarget(name: "InteropTests", dependencies: [
            "Wire", "Identity", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "IdentityTests", dependencies: [
            "Identity", "Wire",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "CryptoExtras", package: "swift-crypto"),
        ]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "Wire", "TransparencyLog", "LinuxService", "MQTT", "TestSupport", "fieldproof", "fieldproof-aggregator",
                                                   .product(name: "Clocks", package: "swift-clocks"), .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "ConfigFileTests", dependencies: ["ConfigFile"]),
        // Runs the built binaries as a technician would.
        .testTarget(name: "FieldproofCLITests", dependencies: [
            "Agent", "LinuxService", "TestSupport", "fieldproof", "fieldproof-aggregator", "fieldproof-fuzz", "fieldproof-witness", "Wire", "Aggregator", "AggregatorStore", "Identity", "MQTT", "TransparencyLog",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Clocks", package: "swift-clocks"),
        ]),
        .testTarget(name: "AggregatorTests", dependencies: [
            "Aggregator", "TestSupport", "MQTT", "LinuxService", "TransparencyLog", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "AggregatorStoreTests", dependencies: [
            "AggregatorStore", "Aggregator", "Wire", "Identity", "MQTT", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"), "TransparencyLog",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "MQTTTests", dependencies: ["MQTT", "TestSupport", "fieldproof-bench"]),
    ]
)
