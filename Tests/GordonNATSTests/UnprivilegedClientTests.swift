import Foundation
import GordonTestDB
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// On the device every service runs as its own unprivileged user, while tests (and CI) run as
/// root, which may set any socket option. A client setting one that needs a privilege (the
/// bug: TCP_NODELAY's number given at the socket level is SO_DEBUG, which needs CAP_NET_ADMIN)
/// connects as root and fails as every service. So the client is run here as `nobody`.
@Suite("NATSClient as an unprivileged user")
struct UnprivilegedClientTests {
    // Not root, every test here is already unprivileged.
    @Test("a process that is not root connects to nats-server and uses JetStream", .enabled(if: getuid() == 0))
    func connectsAsNobody() async throws {
        let server = try await TestNATSServer()
        // A copy any user may run: the build directory may sit under a home only root can enter.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-unprivileged-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let executable = directory + "/gordon-nats-config"
        try FileManager.default.copyItem(atPath: TestEnvironment.builtExecutable("gordon-nats-config"), toPath: executable)
        chmod(executable, 0o755)
        let result = try await TestCommand.runProgram("/usr/sbin/runuser", [
            "-u", "nobody", "--", executable, "ensure-stream", "--nats-url", server.url,
        ])
        #expect(result.status == 0, "\(result.stderr.suffix(1000))")
        #expect(result.stdout.contains("stream GORDON"))
    }
}
