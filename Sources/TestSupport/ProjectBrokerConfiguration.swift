import Foundation

/// The project's recommended broker configuration (config/mosquitto/), made
/// runnable in a temporary directory: the listener moves to the test's port,
/// and the password, ACL and persistence paths move into the directory.
public enum ProjectBrokerConfiguration {
    public static var configFile: URL { ProjectPaths.root.appendingPathComponent("config/mosquitto/fieldproof.conf") }
    public static var aclFile: URL { ProjectPaths.root.appendingPathComponent("config/mosquitto/fieldproof.acl") }

    /// Rewrites the project's config for a test broker. `passwords` become a
    /// password file made with `mosquitto_passwd`.
    public static func make(passwords: [String: String], in directory: URL) async throws -> String {
        let passwordFile = directory.appendingPathComponent("passwd")
        try "".write(to: passwordFile, atomically: true, encoding: .utf8)
        for (user, password) in passwords.sorted(by: { $0.key < $1.key }) {
            try await ProcessRunner.check("/usr/bin/mosquitto_passwd", ["-b", passwordFile.path, user, password])
        }
        let acl = directory.appendingPathComponent("acl")
        try FileManager.default.copyItem(at: aclFile, to: acl)
        let original = try String(contentsOf: configFile, encoding: .utf8)
        var lines: [String] = []
        for line in original.split(separator: "\n", omittingEmptySubsequences: false) {
            let words = line.split(separator: " ")
            switch words.first {
            case "listener": lines.append("listener {PORT} 127.0.0.1")
            case "password_file": lines.append("password_file \(passwordFile.path)")
            case "acl_file": lines.append("acl_file \(acl.path)")
            case "persistence_location": lines.append("persistence_location {DIR}/")
            case "log_dest", "user", "pid_file": continue
            default: lines.append(String(line))
            }
        }
        return lines.joined(separator: "\n")
    }
}
