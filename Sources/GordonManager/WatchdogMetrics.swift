public import GordonWatchdog
import GordonDomain

/// The watchdog's status file as Prometheus gauges. The watchdog serves no HTTP (it is the
/// one process that must never hang on a client), so gordon-manager, which already reads
/// the file for `gordonctl status`, serves these on its `/metrics`.
public enum WatchdogMetrics {
    public struct Family: Sendable, Equatable {
        public let name: String
        public let help: String
    }

    public struct Sample: Sendable, Equatable {
        public let name: String
        /// At most one label: the service's name.
        public let service: String?
        public let value: Double

        public init(name: String, service: String?, value: Double) {
            self.name = name
            self.service = service
            self.value = value
        }
    }

    public static let statusReadable = Family(name: "gordon_watchdog_status_readable", help: "1 while the watchdog's status file can be read")
    public static let statusAge = Family(name: "gordon_watchdog_status_age_seconds",
                                         help: "Seconds since the watchdog last wrote its status (it writes at least every second)")
    public static let running = Family(name: "gordon_watchdog_running", help: "1 while the watchdog's phase is running (migrated, services supervised)")
    public static let serviceUp = Family(name: "gordon_watchdog_service_up", help: "1 while the watchdog has the service running")
    public static let serviceCrashLoop = Family(name: "gordon_watchdog_service_crash_loop",
                                                help: "1 when the service crashed too often and is left down")
    public static let serviceRestarts = Family(name: "gordon_watchdog_service_restarts", help: "Restarts of the service since the watchdog started")
    public static let backupLastSuccess = Family(name: "gordon_backup_last_success_timestamp_seconds",
                                                 help: "Unix time of the last successful backup (NaN: none since the watchdog started)")
    public static let backupLastFailed = Family(name: "gordon_backup_last_failed", help: "1 when the last backup failed")
    public static let backupSnapshots = Family(name: "gordon_backup_snapshots", help: "Snapshots in the backup repository when last listed")
    public static let restoreFailed = Family(name: "gordon_restore_failed", help: "1 when the last restore failed")

    public static let families = [
        statusReadable, statusAge, running, serviceUp, serviceCrashLoop, serviceRestarts,
        backupLastSuccess, backupLastFailed, backupSnapshots, restoreFailed,
    ]

    /// Every sample of `status` read at `now` (Unix seconds); only `statusReadable` (0) when
    /// there is none.
    public static func samples(_ status: WatchdogStatus?, now: Double) -> [Sample] {
        guard let status else { return [Sample(name: statusReadable.name, service: nil, value: 0)] }
        var samples = [
            Sample(name: statusReadable.name, service: nil, value: 1),
            Sample(name: running.name, service: nil, value: status.phase == Supervisor.Phase.running.rawValue ? 1 : 0),
        ]
        if let updated = unixSeconds(status.updatedAt) {
            samples.append(Sample(name: statusAge.name, service: nil, value: now - updated))
        }
        for service in status.services {
            samples.append(Sample(name: serviceUp.name, service: service.name,
                                  value: service.state == Supervisor.ServiceState.running.rawValue ? 1 : 0))
            samples.append(Sample(name: serviceCrashLoop.name, service: service.name,
                                  value: service.state == Supervisor.ServiceState.crashLoop.rawValue ? 1 : 0))
            samples.append(Sample(name: serviceRestarts.name, service: service.name, value: Double(service.restarts)))
        }
        if let backup = status.backup {
            samples.append(Sample(name: backupLastSuccess.name, service: nil, value: lastBackupSucceeded(backup) ?? .nan))
            samples.append(Sample(name: backupLastFailed.name, service: nil, value: backup.lastResult == "failed" ? 1 : 0))
            if let snapshots = backup.snapshots {
                samples.append(Sample(name: backupSnapshots.name, service: nil, value: Double(snapshots.count)))
            }
        }
        if let restore = status.restore {
            samples.append(Sample(name: restoreFailed.name, service: nil, value: restore.result == "failed" ? 1 : 0))
        }
        return samples
    }

    /// The samples of the status file at `path`, read now.
    public static func samples(statusFile path: String, now: Double) -> [Sample] {
        samples(try? WatchdogStatus.read(from: path), now: now)
    }

    /// When the last backup that succeeded finished (Unix seconds). The status starts afresh
    /// with each watchdog; the newest snapshot listed at its start still dates the last
    /// backup that succeeded before it.
    public static func lastBackupSucceeded(_ backup: WatchdogStatus.Backup) -> Double? {
        ([backup.lastSuccessAt] + (backup.snapshots ?? []).map(\.time)).compactMap { $0.flatMap(unixSeconds) }.max()
    }

    static func unixSeconds(_ text: String) -> Double? {
        Timestamp(iso8601: text).map { Double($0.milliseconds) / 1000 }
    }
}
