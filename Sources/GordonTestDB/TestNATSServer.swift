import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A private `nats-server` child process for tests that must stop, kill or reconfigure the
/// server (the shared one from `scripts/test` is `TestEnvironment.natsURL`). Its port and
/// JetStream store survive `kill()` + `start()`, like a real server restarting.
public final class TestNATSServer: @unchecked Sendable {
    public let port: Int
    public let directory: String
    private let lock = NSLock()
    private var process: ChildProcess?

    public var url: String { "nats://127.0.0.1:\(port)" }
    public var storeDirectory: String { directory + "/jetstream" }
    public var configPath: String { directory + "/nats-server.conf" }

    /// Starts a server with JetStream. `config`, when given, is the whole configuration file
    /// (it must use `port` and `storeDirectory`); otherwise `plainConfig`.
    public init(config: ((_ port: Int, _ storeDirectory: String) -> String)? = nil) async throws {
        port = try TestNATSServer.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-nats-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/jetstream", withIntermediateDirectories: true)
        let text = (config ?? TestNATSServer.plainConfig)(port, directory + "/jetstream")
        try text.write(toFile: configPath, atomically: true, encoding: .utf8)
        try await start()
    }

    /// JetStream without users. The file store limit is stated because nats-server's default
    /// is three quarters of the free disk, and the GORDON stream asks for 8 GiB: on a machine
    /// with less than about 11 GB free the stream could not be created.
    static func plainConfig(port: Int, storeDirectory: String) -> String {
        """
        listen: 127.0.0.1:\(port)
        jetstream {
          store_dir: "\(storeDirectory)"
          max_file_store: 16GB
        }

        """
    }

    public func start() async throws {
        let arguments = ["-c", configPath, "-l", directory + "/nats.log"]
        // nats-server appends to its log, so a restart is ready when one more "ready" line shows.
        let readyBefore = readyLines
        let process = try ChildProcess(try TestNATSServer.natsServerPath(), arguments)
        lock.withLock { self.process = process }
        // Ready means this process says so: a port that accepts could belong to a server that
        // another test started on the same number, and then this one has exited.
        _ = try await eventually(timeout: .seconds(20)) { !process.isRunning || readyLines > readyBefore }
        let port = port
        let listening = await onOwnThread { TestNATSServer.waitForPort(port, seconds: 1) }
        guard process.isRunning, listening else {
            throw TestNATSServerError(message: "nats-server did not start on \(port): \(log.suffix(2000))")
        }
    }

    /// SIGKILL: the server gets no chance to flush or say goodbye.
    public func kill() async { await end(with: SIGKILL) }

    /// SIGTERM and wait.
    public func stop() async { await end(with: SIGTERM) }

    private func end(with signal: Int32) async {
        guard let process = takeProcess() else { return }
        process.signal(signal)
        await process.exited()
    }

    private func takeProcess() -> ChildProcess? {
        lock.withLock { defer { self.process = nil }; return self.process }
    }

    public var log: String { (try? String(contentsOfFile: directory + "/nats.log", encoding: .utf8)) ?? "" }

    private var readyLines: Int { log.components(separatedBy: "Server is ready").count - 1 }

    deinit {
        // The process's own deinit kills and reaps it off the cooperative pool.
        _ = takeProcess()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func natsServerPath() throws -> String {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/sbin").split(separator: ":") {
            let candidate = "\(dir)/nats-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestNATSServerError(message: "nats-server is not on PATH (scripts/test installs it)")
    }

    /// Ports handed out in this process: two tests starting servers at once must never be
    /// given the same number.
    private static let handedOut = NSLock()
    nonisolated(unsafe) private static var ports: Set<Int> = []

    /// A TCP port nothing listens on right now (bind to 0, read it back, close), and one not
    /// handed out before in this process.
    public static func freePort() throws -> Int {
        for _ in 0..<100 {
            let port = try unusedPort()
            let fresh = handedOut.withLock { ports.insert(port).inserted }
            if fresh, claimedAcrossProcesses(port) { return port }
        }
        throw TestNATSServerError(message: "no fresh free port after 100 tries")
    }

    /// scripts/test runs one test process per target: a port is claimed by creating a file
    /// named after it in the directory they share, which fails if another process did.
    private static func claimedAcrossProcesses(_ port: Int) -> Bool {
        guard let directory = TestEnvironment.variable("GORDON_TEST_PORTS_DIR") else { return true }
        let fd = open("\(directory)/\(port)", O_CREAT | O_EXCL | O_WRONLY, 0o644)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    private static func unusedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestNATSServerError(message: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw TestNATSServerError(message: "bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Polls until something accepts on `port` (a deadline, not a fixed sleep).
    static func waitForPort(_ port: Int, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if connected == 0 { return true }
            usleep(20_000)  // poll interval, bounded by the deadline above
        }
        return false
    }
}

public struct TestNATSServerError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

extension TestEnvironment {
    /// The shared nats-server `scripts/test` started.
    public static func natsURL() throws -> String {
        guard let url = variable("GORDON_TEST_NATS_URL") else {
            throw TestNATSServerError(message: "GORDON_TEST_NATS_URL is not set: run the tests through scripts/test")
        }
        return url
    }
}

extension TestEnvironment {
    /// A product built next to the test bundle (the test target depends on it), such as
    /// `gordon-migrate`.
    public static func builtExecutable(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let executable = count > 0 ? String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        let directory = executable.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return directory + "/" + name
    }
}
