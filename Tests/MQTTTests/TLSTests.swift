import Foundation
import MQTT
import Testing
import TestSupport

extension MQTTSuite {
    @Suite struct TLS {
        /// A broker with a TLS listener whose certificate a throwaway CA issued.
        private func tlsBroker() async throws -> (MosquittoBroker, CertificateAuthority, URL) {
            let directory = try TemporaryDirectory.make(prefix: "tls")
            let authority = try await CertificateAuthority(name: "good", in: directory)
            let (certificate, key) = try await authority.issueServerCertificate()
            let broker = try MosquittoBroker(configuration: """
                listener {PORT} 127.0.0.1
                allow_anonymous true
                cafile \(authority.certificateFile.path)
                certfile \(certificate.path)
                keyfile \(key.path)
                """)
            return (broker, authority, directory)
        }

        @Test func connectsWithTheRightCertificateAuthority() async throws {
            let (broker, authority, _) = try await tlsBroker()
            let client = try await connectedClient(broker, "tls-ok") {
                $0.tls = MQTTTLSConfiguration(caFile: authority.certificateFile.path)
            }
            let inbox = Collector(client)
            try await client.subscribe("tls/t")
            try await client.publish(topic: "tls/t", payload: [1, 2, 3])
            #expect(await inbox.wait(for: 1))
            #expect(inbox.messages.first?.payload == [1, 2, 3])
        }

        @Test func refusesAServerCertificateFromAnotherAuthority() async throws {
            let (broker, _, directory) = try await tlsBroker()
            let stranger = try await CertificateAuthority(name: "stranger", in: directory)
            let client = try client(broker, "tls-bad") {
                $0.tls = MQTTTLSConfiguration(caFile: stranger.certificateFile.path)
            }
            await #expect {
                try await client.connect()
            } throws: { error in
                let text = String(describing: error)
                return text.contains("127.0.0.1:\(broker.port)") && text.contains("certificate verify failed")
            }
        }

        @Test func mutualTLSNeedsAClientCertificateFromTheAuthority() async throws {
            let directory = try TemporaryDirectory.make(prefix: "mtls")
            let authority = try await CertificateAuthority(name: "mtls", in: directory)
            let (serverCertificate, serverKey) = try await authority.issueServerCertificate()
            let (clientCertificate, clientKey) = try await authority.issueClientCertificate(commonName: "dev-1")
            let broker = try MosquittoBroker(configuration: """
                listener {PORT} 127.0.0.1
                allow_anonymous true
                cafile \(authority.certificateFile.path)
                certfile \(serverCertificate.path)
                keyfile \(serverKey.path)
                require_certificate true
                """)
            let withCertificate = try await connectedClient(broker, "mtls-ok") {
                $0.tls = MQTTTLSConfiguration(caFile: authority.certificateFile.path,
                                              certificateFile: clientCertificate.path, keyFile: clientKey.path)
            }
            #expect(withCertificate.isConnected)
            let without = try client(broker, "mtls-none") { $0.tls = MQTTTLSConfiguration(caFile: authority.certificateFile.path) }
            await #expect(throws: MQTTError.self) { try await without.connect() }
        }

        @Test func aMissingTLSFileNamesThePath() throws {
            var config = MQTTConfiguration(host: "127.0.0.1", port: 8883, clientID: "x")
            config.tls = MQTTTLSConfiguration(caFile: "/nonexistent/ca.crt")
            #expect(throws: MQTTError.tlsFileUnreadable(role: "CA", path: "/nonexistent/ca.crt")) {
                _ = try MQTTClient(configuration: config)
            }
            #expect(String(describing: MQTTError.tlsFileUnreadable(role: "CA", path: "/nonexistent/ca.crt")).contains("/nonexistent/ca.crt"))
        }
    }
}
