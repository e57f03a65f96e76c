import GordonProcess
public import FoundationEssentials

/// The document the watchdog keeps at `statusFile` (`/run/gordon/status` on the device):
/// what an operator or a health check reads to learn whether Gordon is up, and if not, why.
public struct WatchdogStatus: Codable, Sendable, Equatable {
    public var updatedAt: String
    public var watchdogPid: Int32
    public var phase: String
    public var reason: String
    public var migrateAttempts: Int
    public var services: [Service]
    public var backup: Backup?

    public struct Service: Codable, Sendable, Equatable {
        public var name: String
        public var state: String
        public var pid: Int32?
        public var restarts: Int
        public var lastExit: String?
        public var nextStartInSeconds: Double?
    }

    public struct Backup: Codable, Sendable, Equatable {
        /// "never", "running", "succeeded" or "failed" (of the latest run).
        public var lastResult: String
        public var runningStep: String?
        public var lastStartedAt: String?
        public var lastFinishedAt: String?
        public var lastDurationSeconds: Double?
        public var failedStep: String?
        public var detail: String?
        public var lastSuccessAt: String?
        public var lastSnapshotId: String?
        public var nextInSeconds: Double?
        /// Who asked for the latest run, when an operator did (`operator:<login>`).
        public var lastRequestedBy: String?

        public init() { lastResult = "never" }
    }

    public static func read(from path: String) throws -> WatchdogStatus {
        guard let text = readTextFile(path) else { throw LaunchError("cannot read \(path)") }
        return try JSONDecoder().decode(WatchdogStatus.self, from: Data(text.utf8))
    }
}

extension WatchdogStatus {
    init(supervisor: Supervisor, backup: Backup?, pid: Int32, now: Duration) {
        updatedAt = Date.now.formatted(.iso8601)
        watchdogPid = pid
        phase = supervisor.phase.rawValue
        reason = supervisor.reason
        migrateAttempts = supervisor.migrateAttempts
        services = supervisor.services.map { service in
            Service(name: service.name, state: service.state.rawValue, pid: service.pid, restarts: service.restarts,
                    lastExit: service.lastExit?.description,
                    nextStartInSeconds: service.nextStart.map { Self.seconds(max($0 - now, .zero)) })
        }
        self.backup = backup
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Written to a temporary file and renamed over the old one, so a reader never sees half.
    func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        try writeFileAtomically(path, Array(data) + [UInt8(ascii: "\n")])
    }
}
