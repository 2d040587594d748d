import Synchronization

/// SCD4x at the command level: start/stop periodic measurement, data-ready
/// status, read measurement (CO₂, T, RH words with CRCs), serial number. A
/// new measurement is "ready" after each `markMeasurementReady()` (the test
/// or the demo stands in for the chip's 5-second clock).
public final class SimulatedSCD4x: SimulatedI2CChip, Sendable {
    struct State {
        var ppm: Double
        var celsius: Double
        var humidity: Double
        var periodic = false
        var ready = false
        var reply: [UInt8] = []
        var readyEveryRead = true
    }

    private let state: Mutex<State>

    /// With `alwaysReady`, every data-ready query finds a new measurement
    /// (as when reads are at least 5 s apart).
    public init(ppm: Double = 612, celsius: Double = 22, humidity: Double = 40, alwaysReady: Bool = true) {
        state = Mutex(State(ppm: ppm, celsius: celsius, humidity: humidity, readyEveryRead: alwaysReady))
    }

    public func markMeasurementReady() { state.withLock { $0.ready = true } }

    public func set(ppm: Double? = nil, celsius: Double? = nil, humidity: Double? = nil) {
        state.withLock { state in
            if let ppm { state.ppm = ppm }
            if let celsius { state.celsius = celsius }
            if let humidity { state.humidity = humidity }
        }
    }

    public func write(_ bytes: [UInt8]) throws(SimulatedFault) {
        try state.withLock { (state: inout State) throws(SimulatedFault) in
            guard bytes.count >= 2 else { throw .noAcknowledge }
            switch (bytes[0], bytes[1]) {
            case (0x21, 0xB1): state.periodic = true; state.reply = []
            case (0x3F, 0x86): state.periodic = false; state.reply = []
            case (0x36, 0x82):
                guard !state.periodic else { throw .noAcknowledge } // only while idle
                state.reply = SensirionWords.encode([0xF896, 0x9F07, 0x3BB3])
            case (0xE4, 0xB8):
                guard state.periodic else { throw .noAcknowledge }
                let ready = state.ready || state.readyEveryRead
                state.reply = SensirionWords.encode([ready ? 0x8006 : 0x8000])
            case (0xEC, 0x05):
                guard state.periodic else { throw .noAcknowledge }
                state.reply = SensirionWords.encode([
                    UInt16(max(0, min(65535, state.ppm.rounded()))),
                    SensirionWords.signal(state.celsius, offset: -45, span: 175),
                    SensirionWords.signal(state.humidity, offset: 0, span: 100),
                ])
                state.ready = false
            default:
                throw .noAcknowledge
            }
        }
    }

    public func read(count: Int) throws(SimulatedFault) -> [UInt8] {
        try state.withLock { (state: inout State) throws(SimulatedFault) -> [UInt8] in
            guard count <= state.reply.count else { throw .noAcknowledge }
            defer { state.reply = [] }
            return Array(state.reply.prefix(count))
        }
    }
}
