import Foundation

/// Where the package and its built products are, for tests that need the
/// project's own files (configs) or binaries (child processes).
public enum ProjectPaths {
    /// The package root (this file is Sources/TestSupport/ProjectPaths.swift).
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory of the running test binary, where SwiftPM also puts the
    /// package's executables.
    public static let products: URL = URL(fileURLWithPath: "/proc/self/exe")
        .resolvingSymlinksInPath().deletingLastPathComponent()

    /// A built executable of this package, or nil when it was not built.
    public static func product(_ name: String) -> URL? {
        let url = products.appendingPathComponent(name)
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }
}
