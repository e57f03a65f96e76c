import Foundation
import GordonKernel
import GordonNATS
import GordonTestDB
import Testing

/// TLS without nkeys: a throwaway CA signs a certificate for localhost; nats-server demands
/// TLS and the client upgrades after INFO, verifying the chain and the name.
@Suite struct TLSTests {
    private static func makeCertificates(in directory: String) async throws {
        try await TestEnvironment.runShell("""
            cd "$1"
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=gordon-test-ca
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost
            printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext.cnf
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile ext.cnf
            """, arguments: [directory], log: directory + "/openssl.log")
    }

    @Test func connectsOverVerifiedTLSAndRefusesAnUntrustedServer() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.makeCertificates(in: directory)
        let server = try await TestNATSServer { port, store in
            """
            listen: 127.0.0.1:\(port)
            jetstream { store_dir: "\(store)" }
            tls { cert_file: "\(directory)/server.pem", key_file: "\(directory)/server.key", timeout: 10 }
            """
        }
        var options = NATSClientOptions(servers: [NATSServerAddress(host: "127.0.0.1", port: server.port, tls: true)])
        options.tls = NATSTLSOptions(trustRootsFile: directory + "/ca.pem", serverHostname: "localhost")
        let client = try await NATSClient.connect(options)
        let subscription = try await client.subscribe(to: "tls.check")
        try await client.flush()
        try await client.publish("over tls", to: "tls.check")
        #expect(try await collect(subscription, count: 1).map(\.string) == ["over tls"])
        await client.close()

        // The system roots do not know the throwaway CA: the handshake must fail.
        var untrusting = NATSClientOptions(servers: [NATSServerAddress(host: "127.0.0.1", port: server.port, tls: true)])
        untrusting.tls = NATSTLSOptions(serverHostname: "localhost")
        untrusting.connectTimeout = .seconds(3)
        await #expect(throws: GordonError.self) { _ = try await NATSClient.connect(untrusting) }

        // A client that does not ask for TLS still gets it, because the server requires it.
        var plain = NATSClientOptions(servers: [NATSServerAddress(host: "127.0.0.1", port: server.port)])
        plain.tls = NATSTLSOptions(trustRootsFile: directory + "/ca.pem", serverHostname: "localhost")
        let upgraded = try await NATSClient.connect(plain)
        #expect(upgraded.serverInfo?.tlsRequired == true)
        await upgraded.close()
    }
}
