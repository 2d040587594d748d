import CMosquitto

/// Process-wide libmosquitto set-up and return-code helpers.
enum MosquittoLibrary {
    static let success = Int32(MOSQ_ERR_SUCCESS.rawValue)
    static let errno = Int32(MOSQ_ERR_ERRNO.rawValue)
    static let noConnection = Int32(MOSQ_ERR_NO_CONN.rawValue)
    static let oversizePacket = Int32(MOSQ_ERR_OVERSIZE_PACKET.rawValue)

    /// `mosquitto_lib_init` must run once per process before any client; a
    /// global's initialiser runs exactly once, thread-safely.
    private static let initialised: Bool = {
        mosquitto_lib_init() == success
    }()

    static func initialiseOnce() {
        _ = initialised
    }

    static func describe(_ rc: Int32) -> String {
        String(cString: mosquitto_strerror(rc))
    }

    static func reason(_ code: Int32) -> String {
        String(cString: mosquitto_reason_string(code))
    }
}
