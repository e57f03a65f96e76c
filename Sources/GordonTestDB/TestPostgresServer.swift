import Foundation
public import GordonKernel
public import GordonMigrations
public import GordonPostgres
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A private PostgreSQL cluster for tests that stop and restart the server, which the
/// shared one from `scripts/test` must never do. Started and stopped by the same
/// `scripts/lib.sh` functions the scripts use, so it is configured exactly alike.
extension TestEnvironment {
    /// Runs `command` with bash (`$1`, `$2`… are `arguments`, `$GORDON_ROOT` the checkout),
    /// its output appended to `log`; throws with the log's tail if it fails. A
    /// `ChildProcess`, reaped by waitpid: a server the command leaves running in the
    /// background keeps Foundation's Process from ever noticing that bash has exited.
    public static func runShell(_ command: String, arguments: [String] = [], log: String) async throws {
        try await onOwnThread { try runShellBlocking(command, arguments: arguments, log: log) }
    }

    static func runShellBlocking(_ command: String, arguments: [String], log: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["GORDON_ROOT"] = repositoryRoot
        let bash = try ChildProcess("/bin/bash", ["-c", command, "bash"] + arguments,
                                    environment: environment, stdout: log, stderr: log)
        bash.waitUntilExit()
        guard bash.termination == .exited(0) else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw TestNATSServerError(message: "\(command) failed: \(output.suffix(2000))")
        }
    }
}

public final class TestPostgresServer: @unchecked Sendable {
    public let port: Int
    public let directory: String

    /// Whether it runs with the device's settings (fsync and synchronous commits on) rather
    /// than the fast ones tests use elsewhere: for tests of what a crash of PostgreSQL keeps.
    public let durable: Bool

    public init(durable: Bool = false) async throws {
        self.durable = durable
        port = try TestNATSServer.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        try await start()
    }

    public var adminURL: DatabaseURL {
        get throws { try DatabaseURL(parsing: "postgres://postgres@127.0.0.1:\(port)/postgres") }
    }

    public func start() async throws { try await script("GORDON_PG_FAST=\(durable ? 0 : 1) start_postgres \"$1/pg\" \"$2\"") }

    /// `pg_ctl stop -m fast`: every connection is terminated, as in a restart.
    public func stop() async throws { try await script("stop_postgres \"$1/pg\"") }

    /// Creates database `gordon`, migrates it and gives every role a fresh password.
    public func migratedDatabase() async throws -> (url: DatabaseURL, passwords: [DatabaseRole: Secret]) {
        let admin = try adminURL
        let logger = TestEnvironment.logger
        try await Database.withConnection(admin, logger: logger) { connection in
            try await connection.query("CREATE DATABASE gordon", logger: logger)
        }
        return (admin.with(database: "gordon"), try await Template.migrate(admin.with(database: "gordon")))
    }

    private func script(_ command: String) async throws {
        try await TestEnvironment.runShell("source \"$GORDON_ROOT/scripts/lib.sh\"; \(command)",
                                           arguments: [directory, "\(port)"], log: directory + "/script.log")
    }

    deinit {
        try? TestEnvironment.runShellBlocking("source \"$GORDON_ROOT/scripts/lib.sh\"; stop_postgres \"$1/pg\"",
                                      arguments: [directory, "\(port)"], log: directory + "/script.log")
        try? FileManager.default.removeItem(atPath: directory)
    }
}
