public import GordonProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `gordon-watchdog backup` and `restore`: the same plan the loop follows, run in the
/// foreground and waited for.
public enum OneShotBackup {
    public struct Outcome: Sendable, Equatable {
        public var failedStep: BackupPlan.Step?
        public var detail: String?
        public var snapshotId: String?
        public var succeeded: Bool { failedStep == nil }
    }

    /// Every step of `plan`; each command's output goes to `logDirectory/backup-STEP-N.log`.
    public static func backup(_ plan: BackupPlan, logDirectory: String, passwdFile: String = "/etc/passwd") -> Outcome {
        makeDirectory(logDirectory)
        var step = plan.firstStep
        var outcome = Outcome()
        while true {
            let logs = plan.pipeline(step).indices.map { BackupPlan.logPath(step, index: $0, in: logDirectory) }
            let statuses = run(plan.pipeline(step), logs: logs, passwdFile: passwdFile)
            let succeeded = statuses.allSatisfy(\.succeeded)
            if step == .dumpAndBackup, succeeded, let output = readTextFile(logs[logs.count - 1]) {
                outcome.snapshotId = BackupPlan.snapshotId(inBackupOutput: output)
            }
            switch plan.next(after: step, succeeded: succeeded) {
            case .run(let next):
                step = next
            case .succeeded:
                return outcome
            case .failed(let failed):
                outcome.failedStep = failed
                outcome.detail = statuses.map(\.description).joined(separator: ", ") + ": "
                    + logs.compactMap { tailOfFile($0) }.joined(separator: " | ")
                return outcome
            }
        }
    }

    /// Replaces the `trading` schema with the one in `snapshot` ("latest" or an id), in one
    /// transaction, and closes the halt latch as `requestedBy`. Throws with restic's and psql's exit statuses if either failed.
    public static func restore(_ plan: BackupPlan, snapshot: String, requestedBy: String, logDirectory: String,
                               passwdFile: String = "/etc/passwd") throws(LaunchError) {
        makeDirectory(logDirectory)
        let logs = BackupPlan.restoreLogPaths(in: logDirectory)
        let statuses = run(plan.restorePipeline(snapshot: snapshot, requestedBy: requestedBy), logs: logs, passwdFile: passwdFile)
        guard statuses.count == 2, statuses.allSatisfy(\.succeeded) else {
            let detail = logs.compactMap { tailOfFile($0) }.joined(separator: " | ")
            throw LaunchError("restore of snapshot \(snapshot) failed (restic: \(statuses.first?.description ?? "-"), psql: \(statuses.last?.description ?? "-")): \(detail)")
        }
    }

    private static func run(_ pipeline: [WatchdogConfiguration.Command], logs: [String], passwdFile: String) -> [ExitStatus] {
        let descriptors = logs.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640) }
        defer { descriptors.forEach { if $0 >= 0 { close($0) } } }
        do {
            let pids = try ProcessLauncher.spawnPipeline(pipeline, output: { descriptors[$0] >= 0 ? descriptors[$0] : nil }, passwdFile: passwdFile)
            return pids.map { ProcessLauncher.waitForExit($0) }
        } catch {
            return [.notStarted(error.message)]
        }
    }
}
