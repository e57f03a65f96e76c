/// A program to run: its absolute path, arguments, extra environment, and the Unix user
/// it runs as (nil: the caller's own user, as when the local stack runs without root).
public struct ProcessCommand: Codable, Sendable, Equatable {
    public var name: String
    public var executable: String
    public var arguments: [String]
    public var environment: [String: String]
    public var user: String?
    /// A file its output is appended to, for a supervisor that keeps one log per service
    /// (the local stack); nil: the supervisor's own output (on the device, the journal).
    public var logFile: String?

    public init(name: String, executable: String, arguments: [String] = [], environment: [String: String] = [:], user: String? = nil,
                logFile: String? = nil) {
        self.name = name
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.user = user
        self.logFile = logFile
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        executable = try container.decode(String.self, forKey: .executable)
        arguments = try container.decodeIfPresent([String].self, forKey: .arguments) ?? []
        environment = try container.decodeIfPresent([String: String].self, forKey: .environment) ?? [:]
        user = try container.decodeIfPresent(String.self, forKey: .user)
        logFile = try container.decodeIfPresent(String.self, forKey: .logFile)
    }
}

/// How a child process ended.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    /// It never ran: it could not be started (no such file, no such user…).
    case notStarted(String)

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): "exit \(code)"
        case .signalled(let signal): "killed by signal \(signal)"
        case .notStarted(let reason): "not started: \(reason)"
        }
    }
}
