import GordonProcess
public import Logging
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The watchdog's I/O loop: one thread, signals taken synchronously with `sigtimedwait`
/// (no handlers, no races), children reaped with `waitpid`, every decision left to
/// `Supervisor` and `BackupPlan`. Returns the process exit code once stopped.
public final class WatchdogRunner {
    private let configuration: WatchdogConfiguration
    private let logger: Logger
    private let passwdFile: String
    private let statusDirectory: String
    private var supervisor: Supervisor
    private let origin = ContinuousClock.now

    private let backupPlan: BackupPlan?
    private var backupStatus: WatchdogStatus.Backup?
    private var nextBackup: Duration?
    private var backupRun: (step: BackupPlan.Step, pids: [pid_t: ExitStatus?], startedAt: Duration, wallStart: String)?

    public init(configuration: WatchdogConfiguration, logger: Logger, passwdFile: String = "/etc/passwd") {
        self.configuration = configuration
        self.logger = logger
        self.passwdFile = passwdFile
        self.statusDirectory = configuration.statusDirectory
        self.supervisor = Supervisor(serviceNames: configuration.services.map(\.name), policy: configuration.restart,
                                     stopGrace: .seconds(configuration.stopGraceSeconds))
        self.backupPlan = configuration.backup.map(BackupPlan.init)
        self.backupStatus = configuration.backup == nil ? nil : WatchdogStatus.Backup()
    }

    private var now: Duration { ContinuousClock.now - origin }

    public func run() -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGCHLD, SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, signal) }
        // Blocked before any child exists, so no SIGCHLD or SIGTERM is ever missed: they
        // wait as pending until sigtimedwait takes them. Children unblock them before exec.
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        makeDirectory(statusDirectory)
        logger.info("watchdog starting", metadata: ["services": "\(configuration.services.map(\.name).joined(separator: ","))"])

        var exitCode: Int32? = apply(supervisor.begin())
        writeStatus()
        while exitCode == nil {
            let current = now
            if let code = apply(supervisor.tick(at: current)) { exitCode = code; break }
            stepBackups(at: current)
            writeStatus()

            var wait = Duration.seconds(1)
            for deadline in [supervisor.nextDeadline, backupRun == nil ? nextBackup : nil].compactMap({ $0 }) {
                wait = min(wait, max(deadline - current, .milliseconds(1)))
            }
            var timeout = timespec(tv_sec: Int(wait.components.seconds), tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
            var info = siginfo_t()
            let received = sigtimedwait(&signals, &info, &timeout)
            switch received {
            case SIGTERM, SIGINT:
                logger.notice("stop requested", metadata: ["signal": "\(received)"])
                stopBackup()
                exitCode = apply(supervisor.stopRequested(at: now))
            case SIGHUP:
                logger.info("SIGHUP ignored: restart the watchdog to reload its configuration")
            default:
                break  // SIGCHLD or the timeout: reap below, then tick
            }
            if let code = reapChildren() { exitCode = code }
        }
        killRemainingBackup()
        writeStatus()
        logger.notice("watchdog stopped", metadata: ["exit": "\(exitCode ?? 0)"])
        return exitCode ?? 0
    }

    // MARK: Children

    /// Carries out the supervisor's actions; an `.exit` returns its code.
    private func apply(_ actions: [Supervisor.Action]) -> Int32? {
        for action in actions {
            switch action {
            case .start(let unit):
                start(unit)
            case .signal(let pid, let signal):
                logger.info("signalling", metadata: ["pid": "\(pid)", "signal": "\(signal)"])
                kill(-pid, signal)  // the process group: whatever the service started goes too
            case .exit(let code):
                return code
            }
        }
        return nil
    }

    private func start(_ unit: Supervisor.Unit) {
        let command: WatchdogConfiguration.Command
        var output: Int32?
        switch unit {
        case .migrate:
            command = configuration.migrate
            output = openLog(migrateLog)
        case .service(let index):
            command = configuration.services[index]
        }
        defer { if let output { close(output) } }
        do {
            let pid = try ProcessLauncher.spawn(command, stdout: output, stderr: output, passwdFile: passwdFile)
            supervisor.launched(unit, pid: pid, at: now)
            logger.info("started", metadata: ["name": "\(command.name)", "pid": "\(pid)", "user": "\(command.user ?? "-")"])
        } catch {
            logger.error("cannot start", metadata: ["name": "\(command.name)", "error": "\(error)"])
            // Handled like a process that died at once: backoff, crash loop, migration retry.
            if let code = apply(supervisor.ended(unit, status: .notStarted(error.message), at: now)) {
                logger.critical("unexpected exit request while starting", metadata: ["code": "\(code)"])
            }
        }
    }

    private var migrateLog: String { statusDirectory + "/migrate.log" }

    private func reapChildren() -> Int32? {
        var exitCode: Int32?
        while true {
            var raw: Int32 = 0
            let pid = waitpid(-1, &raw, WNOHANG)
            if pid <= 0 { break }
            let status = ProcessLauncher.exitStatus(fromWaitStatus: raw)
            if let unit = supervisor.unit(of: pid) {
                var detail: String?
                switch unit {
                case .migrate:
                    // What the migrator did (files applied, passwords set) belongs in the
                    // journal, not only in a file under /run.
                    for line in lastLines(ofFile: migrateLog, limit: 8192) {
                        logger.info("gordon-migrate: \(line)")
                    }
                    if !status.succeeded { detail = tailOfFile(migrateLog) }
                    logger.log(level: status.succeeded ? .info : .error, "migration ended",
                               metadata: ["status": "\(status)", "output": "\(detail ?? "")"])
                case .service(let index):
                    let level: Logger.Level = supervisor.phase == .stopping ? .info : .error
                    logger.log(level: level, "service ended", metadata: ["name": "\(configuration.services[index].name)", "status": "\(status)"])
                    // Whatever the service left behind in its process group goes with it, so
                    // the next incarnation never meets a stray holding a port or a lock.
                    kill(-pid, SIGKILL)
                }
                if let code = apply(supervisor.ended(unit, status: status, detail: detail, at: now)) { exitCode = code }
                switch supervisor.phase {
                case .migrateFailed:
                    logger.error("\(supervisor.reason)")
                case .running:
                    if case .service(let index) = unit {
                        let level: Logger.Level = supervisor.services[index].state == .crashLoop ? .critical : .warning
                        logger.log(level: level, "\(supervisor.reason)")
                    }
                default:
                    break
                }
            } else if backupRun?.pids.keys.contains(pid) == true {
                backupRun?.pids[pid] = status
            }
        }
        return exitCode
    }

    // MARK: Backups

    private func stepBackups(at current: Duration) {
        guard let plan = backupPlan else { return }
        if supervisor.phase == .running, nextBackup == nil, backupRun == nil, backupStatus?.lastStartedAt == nil {
            nextBackup = current + .seconds(plan.configuration.firstAfterSeconds)
        }
        if let run = backupRun, run.pids.values.allSatisfy({ $0 != nil }) {
            let statuses = run.pids.values.compactMap { $0 }
            let succeeded = statuses.allSatisfy(\.succeeded)
            if run.step == .dumpAndBackup, succeeded, let output = readTextFile(backupLog(.dumpAndBackup, index: 1)) {
                backupStatus?.lastSnapshotId = BackupPlan.snapshotId(inBackupOutput: output)
            }
            switch plan.next(after: run.step, succeeded: succeeded) {
            case .run(let step) where supervisor.phase == .running:
                startBackupStep(step, plan: plan, startedAt: run.startedAt, wallStart: run.wallStart)
            case .run:
                finishBackup(run, result: "failed", failedStep: run.step, detail: "interrupted: the watchdog is stopping", plan: plan)
            case .succeeded:
                finishBackup(run, result: "succeeded", failedStep: nil, detail: nil, plan: plan)
            case .failed(let step):
                let detail = (0..<plan.pipeline(step).count).compactMap { tailOfFile(backupLog(step, index: $0)) }.joined(separator: " | ")
                finishBackup(run, result: "failed", failedStep: step,
                             detail: "\(statuses.map(\.description).joined(separator: ", ")): \(detail)", plan: plan)
            }
        } else if backupRun == nil, supervisor.phase == .running,
                  let trigger = backupTrigger(at: current, requestFile: plan.configuration.requestFile) {
            backupStatus?.lastRequestedBy = trigger.requestedBy
            backupStatus?.lastStartedAt = Date.now.formatted(.iso8601)
            backupStatus?.lastResult = "running"
            logger.info("backup starting", metadata: ["requested_by": "\(backupStatus?.lastRequestedBy ?? "the schedule")"])
            startBackupStep(plan.firstStep, plan: plan, startedAt: current, wallStart: backupStatus?.lastStartedAt ?? "")
        }
        backupStatus?.nextInSeconds = backupRun == nil ? nextBackup.map { WatchdogStatus.seconds(max($0 - current, .zero)) } : nil
    }

    /// Why a backup starts now: an operator's request (taken: the file is removed), or the
    /// schedule; nil when neither.
    private func backupTrigger(at current: Duration, requestFile: String?) -> BackupTrigger? {
        if let path = requestFile, let text = readTextFile(path) {
            unlink(path)
            let requester = text.split(whereSeparator: \.isNewline).first.map { String($0.prefix(128)) } ?? ""
            return BackupTrigger(requestedBy: requester.isEmpty ? "unknown" : requester)
        }
        guard let due = nextBackup, current >= due else { return nil }
        return BackupTrigger(requestedBy: nil)
    }

    struct BackupTrigger {
        /// Nil: the schedule.
        let requestedBy: String?
    }

    private func startBackupStep(_ step: BackupPlan.Step, plan: BackupPlan, startedAt: Duration, wallStart: String) {
        let pipeline = plan.pipeline(step)
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        do {
            let pids = try ProcessLauncher.spawnPipeline(pipeline, output: { index in
                let fd = self.openLog(self.backupLog(step, index: index))
                if let fd { descriptors.append(fd) }
                return fd
            }, passwdFile: passwdFile)
            backupRun = (step, Dictionary(uniqueKeysWithValues: pids.map { ($0, nil) }), startedAt, wallStart)
            backupStatus?.runningStep = step.rawValue
        } catch {
            let run = (step: step, pids: [pid_t: ExitStatus?](), startedAt: startedAt, wallStart: wallStart)
            finishBackup(run, result: "failed", failedStep: step, detail: error.message, plan: plan)
        }
    }

    private func finishBackup(_ run: (step: BackupPlan.Step, pids: [pid_t: ExitStatus?], startedAt: Duration, wallStart: String),
                              result: String, failedStep: BackupPlan.Step?, detail: String?, plan: BackupPlan) {
        backupRun = nil
        let finished = Date.now.formatted(.iso8601)
        backupStatus?.lastResult = result
        backupStatus?.runningStep = nil
        backupStatus?.lastFinishedAt = finished
        backupStatus?.lastDurationSeconds = WatchdogStatus.seconds(now - run.startedAt)
        backupStatus?.failedStep = failedStep?.rawValue
        backupStatus?.detail = detail
        if result == "succeeded" { backupStatus?.lastSuccessAt = finished }
        nextBackup = now + .seconds(plan.configuration.intervalSeconds)
        if let failedStep {
            logger.error("backup failed", metadata: ["step": "\(failedStep.rawValue)", "detail": "\(detail ?? "")"])
        } else {
            logger.info("backup succeeded", metadata: ["snapshot": "\(backupStatus?.lastSnapshotId ?? "?")",
                                                       "seconds": "\(backupStatus?.lastDurationSeconds ?? 0)"])
        }
    }

    private func backupLog(_ step: BackupPlan.Step, index: Int) -> String {
        BackupPlan.logPath(step, index: index, in: statusDirectory)
    }

    private func stopBackup() {
        guard let run = backupRun else { return }
        for (pid, status) in run.pids where status == nil { kill(-pid, SIGTERM) }
    }

    private func killRemainingBackup() {
        guard let run = backupRun else { return }
        for (pid, status) in run.pids where status == nil {
            kill(-pid, SIGKILL)
            _ = ProcessLauncher.waitForExit(pid)
        }
        backupRun = nil
        backupStatus?.lastResult = "failed"
        backupStatus?.runningStep = nil
        backupStatus?.failedStep = run.step.rawValue
        backupStatus?.detail = "interrupted by the watchdog stopping"
    }

    // MARK: Files

    private func writeStatus() {
        let status = WatchdogStatus(supervisor: supervisor, backup: backupStatus, pid: getpid(), now: now)
        do {
            try status.write(to: configuration.statusFile)
        } catch {
            logger.error("cannot write the status file", metadata: ["path": "\(configuration.statusFile)", "error": "\(error)"])
        }
    }

    private func openLog(_ path: String) -> Int32? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        return fd >= 0 ? fd : nil
    }
}

func makeDirectory(_ path: String) {
    var prefix = ""
    for component in path.split(separator: "/") {
        prefix += "/" + component
        mkdir(prefix, 0o755)
    }
}

func writeFileAtomically(_ path: String, _ bytes: [UInt8]) throws(LaunchError) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw LaunchError("cannot write \(temporary): \(String(cString: strerror(errno)))") }
    var offset = 0
    while offset < bytes.count {
        let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if written < 0, errno == EINTR { continue }
        guard written > 0 else {
            close(fd)
            throw LaunchError("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        offset += written
    }
    close(fd)
    guard rename(temporary, path) == 0 else { throw LaunchError("cannot rename \(temporary): \(String(cString: strerror(errno)))") }
}
