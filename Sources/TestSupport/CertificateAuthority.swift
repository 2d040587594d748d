import Foundation

/// A throwaway certificate authority made with the openssl CLI, for TLS tests.
public struct CertificateAuthority: Sendable {
    public static let openssl = "/usr/bin/openssl"

    public let directory: URL
    public let name: String
    public var certificateFile: URL { directory.appendingPathComponent("\(name)-ca.crt") }
    public var keyFile: URL { directory.appendingPathComponent("\(name)-ca.key") }

    /// Creates a self-signed CA (EC P-256, valid for a day) named `name`.
    public init(name: String, in directory: URL) async throws {
        self.directory = directory
        self.name = name
        try await ProcessRunner.check(Self.openssl, [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", keyFile.path, "-out", certificateFile.path, "-days", "1",
            "-subj", "/CN=Fieldproof test CA \(name)",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ])
    }

    /// Issues a server certificate for 127.0.0.1 and localhost; returns
    /// (certificate, key) paths.
    public func issueServerCertificate(commonName: String = "localhost") async throws -> (certificate: URL, key: URL) {
        try await issue(file: "\(name)-server", commonName: commonName, extensions: """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature,keyAgreement
            extendedKeyUsage=serverAuth
            subjectAltName=IP:127.0.0.1,DNS:localhost
            """)
    }

    /// Issues a client certificate (for brokers that require one); returns
    /// (certificate, key) paths.
    public func issueClientCertificate(commonName: String) async throws -> (certificate: URL, key: URL) {
        try await issue(file: "\(name)-client-\(commonName)", commonName: commonName, extensions: """
            basicConstraints=CA:FALSE
            keyUsage=critical,digitalSignature,keyAgreement
            extendedKeyUsage=clientAuth
            """)
    }

    /// A new EC P-256 key, a request for `commonName`, and the certificate
    /// this CA signs for it with `extensions`, valid for a day.
    private func issue(file: String, commonName: String, extensions text: String) async throws -> (certificate: URL, key: URL) {
        let base = directory.appendingPathComponent(file)
        let key = base.appendingPathExtension("key")
        let request = base.appendingPathExtension("csr")
        let certificate = base.appendingPathExtension("crt")
        let extensions = base.appendingPathExtension("ext")
        try text.write(to: extensions, atomically: true, encoding: .utf8)
        try await ProcessRunner.check(Self.openssl, [
            "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key.path, "-out", request.path, "-subj", "/CN=\(commonName)",
        ])
        try await ProcessRunner.check(Self.openssl, [
            "x509", "-req", "-in", request.path, "-CA", certificateFile.path, "-CAkey", keyFile.path,
            "-CAcreateserial", "-out", certificate.path, "-days", "1", "-extfile", extensions.path,
        ])
        return (certificate, key)
    }
}
