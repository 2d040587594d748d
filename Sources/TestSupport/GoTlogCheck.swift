import Foundation

/// Runs scripts/interop/tlog_check.go (Go's golang.org/x/mod sumdb/note
/// and sumdb/tlog, from Debian's golang-go and golang-golang-x-mod-dev,
/// offline in GOPATH mode) on one JSON input; see the program for what it
/// checks.
public enum GoTlogCheck {
    public static let go = "/usr/bin/go"
    public static let goPath = "/usr/share/gocode"

    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: go)
            && FileManager.default.fileExists(atPath: goPath + "/src/golang.org/x/mod/sumdb/tlog/tlog.go")
    }

    public static func run(_ input: [String: Any]) async throws -> ProcessRunner.Result {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: input, options: .withoutEscapingSlashes), as: UTF8.self)
        let cache = try TemporaryDirectory.make(prefix: "gocache").path
        let script = ProjectPaths.root.appendingPathComponent("scripts/interop/tlog_check.go").path
        return try await ProcessRunner.run("/usr/bin/env", [
            "GO111MODULE=off", "GOPATH=\(goPath)", "GOCACHE=\(cache)", "GOFLAGS=", "HOME=\(cache)", go, "run", script,
        ], input: json)
    }
}
