public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A finished child process, as an operator (or the watchdog) meets it: its exit status and
/// everything it wrote.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// One of this package's executables as a real child process. Output goes to files, not
/// pipes, so a chatty child can never block on a full pipe while the test waits for it.
public final class TestCommand: @unchecked Sendable {
    public let process: ChildProcess
    private let directory: String

    /// Starts `name` (a product built next to the test binary) with `arguments`;
    /// `environment` entries set to nil are removed from the inherited environment.
    public convenience init(_ name: String, _ arguments: [String], environment: [String: String?] = [:]) throws {
        try self.init(program: TestEnvironment.builtExecutable(name), arguments, environment: environment)
    }

    /// Starts the program at `path` (a system tool such as psql).
    public init(program path: String, _ arguments: [String], environment: [String: String?] = [:]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-cmd-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process = try ChildProcess(path, arguments, environment: env, stdout: directory + "/stdout", stderr: directory + "/stderr")
    }

    /// Runs `name` to completion.
    public static func run(_ name: String, _ arguments: [String], environment: [String: String?] = [:]) async throws -> CommandResult {
        let command = try TestCommand(name, arguments, environment: environment)
        await command.waitUntilExit()
        return command.result
    }

    /// Runs the program at `path` to completion.
    public static func runProgram(_ path: String, _ arguments: [String], environment: [String: String?] = [:]) async throws -> CommandResult {
        let command = try TestCommand(program: path, arguments, environment: environment)
        await command.waitUntilExit()
        return command.result
    }

    /// Waits for the process to exit without holding a thread of the cooperative pool.
    public func waitUntilExit() async {
        await process.exited()
    }

    public var stdout: String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }
    public var result: CommandResult { CommandResult(status: process.terminationStatus, stdout: stdout, stderr: stderr) }

    /// Sends `signal` (SIGTERM by default) and waits up to `timeout` for the process to exit;
    /// its result, or nil if it is still running.
    public func stop(signal: Int32? = nil, timeout: Duration = .seconds(10)) async throws -> CommandResult? {
        process.signal(signal ?? SIGTERM)
        guard try await eventually(timeout: timeout, { !process.isRunning }) else { return nil }
        return result
    }

    deinit {
        // The process's own deinit kills and reaps it off the cooperative pool.
        try? FileManager.default.removeItem(atPath: directory)
    }
}
