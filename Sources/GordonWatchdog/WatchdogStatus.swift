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
    /// The latest restore an operator asked for, if any since the watchdog started.
    public var restore: Restore?

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
        /// The repository's snapshots of the trading schema, newest first (at most
        /// `snapshotLimit`), as listed after the watchdog started and after every backup.
        public var snapshots: [Snapshot]?
        public var snapshotsListedAt: String?
        /// Where the backups go (a path, or sftp:user@host:path); any credential in another
        /// kind of repository URL is left out.
        public var repository: String?

        public init(repository: String? = nil) {
            lastResult = "never"
            self.repository = repository.map(Self.shown)
        }

        static func shown(_ repository: String) -> String {
            if repository.hasPrefix("/") { return repository }
            if let sftp = try? SFTPRepository(repository) {
                return "sftp:\(sftp.user)@\(sftp.host)\(sftp.port.map { ":\($0)" } ?? ""):\(sftp.path)"
            }
            return String(repository.prefix { $0 != ":" }) + ":…"
        }
    }

    public struct Snapshot: Codable, Sendable, Equatable {
        public var id: String
        /// When restic took it (RFC 3339, as restic prints it).
        public var time: String

        public init(id: String, time: String) {
            self.id = id
            self.time = time
        }
    }

    public static let snapshotLimit = 100

    public struct Restore: Codable, Sendable, Equatable {
        /// "stopping_services", "running", "succeeded" or "failed".
        public var result: String
        public var snapshot: String
        public var requestedBy: String
        public var requestedAt: String
        public var finishedAt: String?
        public var detail: String?
    }

    public static func read(from path: String) throws -> WatchdogStatus {
        guard let text = readTextFile(path) else { throw LaunchError("cannot read \(path)") }
        return try JSONDecoder().decode(WatchdogStatus.self, from: Data(text.utf8))
    }
}

extension WatchdogStatus {
    init(supervisor: Supervisor, backup: Backup?, restore: Restore?, pid: Int32, now: Duration) {
        updatedAt = Date.now.formatted(.iso8601)
        watchdogPid = pid
        phase = supervisor.phase.rawValue
        reason = supervisor.reason
        migrateAttempts = supervisor.migrateAttempts
        services = supervisor.services.filter { $0.state != .retired }.map { service in
            Service(name: service.name, state: service.state.rawValue, pid: service.pid, restarts: service.restarts,
                    lastExit: service.lastExit?.description,
                    nextStartInSeconds: service.nextStart.map { Self.seconds(max($0 - now, .zero)) })
        }
        self.backup = backup
        self.restore = restore
    }

    /// `restic snapshots --json`'s array (restic's own log lines, if any, around it are
    /// skipped), newest first, at most `snapshotLimit`.
    static func snapshots(inResticOutput output: String) -> [Snapshot]? {
        struct Listed: Decodable {
            let id: String
            let time: String
        }
        guard let start = output.firstIndex(of: "["), let end = output.lastIndex(of: "]"), start < end,
              let listed = try? JSONDecoder().decode([Listed].self, from: Data(output[start...end].utf8))
        else { return nil }
        // One device writes the repository, so every time has its offset: the text sorts as the instant.
        return listed.sorted { $0.time > $1.time }.prefix(snapshotLimit).map { Snapshot(id: $0.id, time: $0.time) }
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
