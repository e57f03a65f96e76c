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
    /// Each supervised service's command, index for index with `supervisor.services`: a
    /// reload replaces changed ones and appends new ones; a retired one keeps its place.
    private var commands: [WatchdogConfiguration.Command]
    /// Reads the configuration again for SIGHUP; nil: SIGHUP is ignored.
    private let reload: (() throws -> WatchdogConfiguration)?
    private let logger: Logger
    private let passwdFile: String
    private let statusDirectory: String
    private var supervisor: Supervisor
    private let origin = ContinuousClock.now

    private let backupPlan: BackupPlan?
    private var backupStatus: WatchdogStatus.Backup?
    private var restoreStatus: WatchdogStatus.Restore?
    private var nextBackup: Duration?
    /// The one backup, listing or restore running: they never overlap, and an operator's
    /// request waits in its file until none runs.
    private var job: Job?
    private var snapshotsListAttempted = false

    private struct Job {
        enum Kind {
            case backup(BackupPlan.Step)
            case listSnapshots
            case restore
        }

        var kind: Kind
        var pids: [pid_t: ExitStatus?]
        /// When the whole backup (not its current step) started.
        let startedAt: Duration
        var finished: Bool { pids.values.allSatisfy { $0 != nil } }
        var statuses: [ExitStatus] { pids.values.compactMap { $0 } }
    }

    public init(configuration: WatchdogConfiguration, logger: Logger, passwdFile: String = "/etc/passwd",
                reload: (() throws -> WatchdogConfiguration)? = nil) {
        self.configuration = configuration
        self.commands = configuration.services
        self.reload = reload
        self.logger = logger
        self.passwdFile = passwdFile
        self.statusDirectory = configuration.statusDirectory
        self.supervisor = Supervisor(serviceNames: configuration.services.map(\.name), policy: configuration.restart,
                                     stopGrace: .seconds(configuration.stopGraceSeconds))
        self.backupPlan = configuration.backup.map(BackupPlan.init)
        self.backupStatus = configuration.backup.map { WatchdogStatus.Backup(repository: $0.repository) }
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
            for deadline in [supervisor.nextDeadline, job == nil ? nextBackup : nil].compactMap({ $0 }) {
                wait = min(wait, max(deadline - current, .milliseconds(1)))
            }
            var timeout = timespec(tv_sec: Int(wait.components.seconds), tv_nsec: Int(wait.components.attoseconds / 1_000_000_000))
            var info = siginfo_t()
            let received = sigtimedwait(&signals, &info, &timeout)
            switch received {
            case SIGTERM, SIGINT:
                logger.notice("stop requested", metadata: ["signal": "\(received)"])
                stopJob()
                exitCode = apply(supervisor.stopRequested(at: now))
            case SIGHUP:
                reloadServices()
            default:
                break  // SIGCHLD or the timeout: reap below, then tick
            }
            if let code = reapChildren() { exitCode = code }
        }
        killRemainingJob()
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
            case .servicesStopped:
                startRestore()
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
            command = commands[index]
            if let path = command.logFile {
                output = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
                if output == -1 {
                    logger.error("cannot open the service's log; it logs to the watchdog's output",
                                 metadata: ["name": "\(command.name)", "path": "\(path)", "error": "\(String(cString: strerror(errno)))"])
                    output = nil
                }
            }
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
                    logger.log(level: level, "service ended", metadata: ["name": "\(commands[index].name)", "status": "\(status)"])
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
            } else if job?.pids.keys.contains(pid) == true {
                job?.pids[pid] = status
            }
        }
        return exitCode
    }

    // MARK: Reload

    /// SIGHUP: the services of the configuration as it is now on disk, added, changed or
    /// removed without touching the others (adding a bot restarts nothing else). The rest of
    /// the configuration takes effect at the watchdog's next start.
    private func reloadServices() {
        guard let reload else {
            logger.info("SIGHUP ignored: restart the watchdog to reload its configuration")
            return
        }
        let fresh: WatchdogConfiguration
        do {
            fresh = try reload()
        } catch {
            logger.error("configuration not reloaded; the services run on as they were", metadata: ["error": "\(error)"])
            return
        }
        var current: [String: WatchdogConfiguration.Command] = [:]
        for (index, service) in supervisor.services.enumerated() where service.state != .retired { current[service.name] = commands[index] }
        let changed = Set(fresh.services.filter { service in current[service.name].map { $0 != service } ?? false }.map(\.name))
        guard let actions = supervisor.reconfigure(fresh.services.map(\.name), changed: changed, at: now) else {
            logger.warning("configuration not reloaded while \(supervisor.phase.rawValue); send SIGHUP again once running")
            return
        }
        let wanted = Dictionary(fresh.services.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, service) in supervisor.services.enumerated() {
            guard service.state != .retired, let command = wanted[service.name] else { continue }
            if index < commands.count { commands[index] = command } else { commands.append(command) }
        }
        let added = fresh.services.map(\.name).filter { current[$0] == nil }
        let removed = current.keys.filter { wanted[$0] == nil }.sorted()
        logger.notice("configuration reloaded", metadata: [
            "added": "\(added.joined(separator: ","))", "changed": "\(changed.sorted().joined(separator: ","))",
            "removed": "\(removed.joined(separator: ","))",
        ])
        var rest = fresh
        rest.services = configuration.services
        if rest != configuration {
            logger.notice("only the services were reloaded: the rest of the configuration takes effect when the watchdog restarts")
        }
        _ = apply(actions)
    }

    // MARK: Backups, snapshot lists and restores

    private func stepBackups(at current: Duration) {
        guard let plan = backupPlan else { return }
        if supervisor.phase == .running, nextBackup == nil, job == nil, backupStatus?.lastStartedAt == nil {
            nextBackup = current + .seconds(plan.configuration.firstAfterSeconds)
        }
        if let finished = job, finished.finished {
            job = nil
            switch finished.kind {
            case .backup(let step): backupStepEnded(step, finished, plan: plan)
            case .listSnapshots: snapshotsListed(finished)
            case .restore: restoreEnded(finished)
            }
        }
        if job == nil, supervisor.phase == .running {
            if let path = plan.configuration.requestFile, let text = readTextFile(path) {
                unlink(path)
                take(text, plan: plan, at: current)
            } else if let due = nextBackup, current >= due {
                startBackup(requestedBy: nil, plan: plan, at: current)
            } else if !snapshotsListAttempted {
                // What the repository holds is known from the start, not only after a backup.
                snapshotsListAttempted = true
                startJob(.listSnapshots, pipeline: [plan.listSnapshots], logs: [BackupPlan.listLogPath(in: statusDirectory)], startedAt: current)
            }
        }
        var backingUp = false
        if case .backup = job?.kind { backingUp = true }
        backupStatus?.nextInSeconds = backingUp ? nil : nextBackup.map { WatchdogStatus.seconds(max($0 - current, .zero)) }
    }

    /// An operator's request (the file is already removed: a malformed one is logged and dropped).
    private func take(_ text: String, plan: BackupPlan, at current: Duration) {
        let request: WatchdogRequest
        do {
            request = try WatchdogRequest.parse(text)
        } catch {
            logger.error("request refused", metadata: ["error": "\(error.message)"])
            return
        }
        switch request.action {
        case .backup:
            startBackup(requestedBy: request.requestedBy, plan: plan, at: current)
        case .listSnapshots:
            logger.info("listing snapshots", metadata: ["requested_by": "\(request.requestedBy)"])
            startJob(.listSnapshots, pipeline: [plan.listSnapshots], logs: [BackupPlan.listLogPath(in: statusDirectory)], startedAt: current)
        case .restore(let snapshot):
            logger.notice("restore requested: stopping every service", metadata: ["snapshot": "\(snapshot)", "requested_by": "\(request.requestedBy)"])
            restoreStatus = WatchdogStatus.Restore(result: "stopping_services", snapshot: snapshot, requestedBy: request.requestedBy,
                                                   requestedAt: Date.now.formatted(.iso8601))
            if let code = apply(supervisor.stopForRestore(at: current)) {
                logger.critical("unexpected exit request while stopping for a restore", metadata: ["code": "\(code)"])
            }
        }
    }

    private func startBackup(requestedBy: String?, plan: BackupPlan, at current: Duration) {
        backupStatus?.lastRequestedBy = requestedBy
        backupStatus?.lastStartedAt = Date.now.formatted(.iso8601)
        backupStatus?.lastResult = "running"
        logger.info("backup starting", metadata: ["requested_by": "\(requestedBy ?? "the schedule")"])
        startBackupStep(plan.firstStep, plan: plan, startedAt: current)
    }

    private func backupStepEnded(_ step: BackupPlan.Step, _ finished: Job, plan: BackupPlan) {
        let statuses = finished.statuses
        let succeeded = statuses.allSatisfy(\.succeeded)
        if step == .dumpAndBackup, succeeded, let output = readTextFile(backupLog(.dumpAndBackup, index: 1)) {
            backupStatus?.lastSnapshotId = BackupPlan.snapshotId(inBackupOutput: output)
        }
        switch plan.next(after: step, succeeded: succeeded) {
        case .run(let next) where supervisor.phase == .running:
            startBackupStep(next, plan: plan, startedAt: finished.startedAt)
        case .run:
            finishBackup(startedAt: finished.startedAt, result: "failed", failedStep: step, detail: "interrupted: the watchdog is stopping", plan: plan)
        case .succeeded:
            finishBackup(startedAt: finished.startedAt, result: "succeeded", failedStep: nil, detail: nil, plan: plan)
            // The new snapshot, and what retention pruned, show in the list at once.
            startJob(.listSnapshots, pipeline: [plan.listSnapshots], logs: [BackupPlan.listLogPath(in: statusDirectory)], startedAt: now)
        case .failed(let failed):
            let detail = (0..<plan.pipeline(failed).count).compactMap { tailOfFile(backupLog(failed, index: $0)) }.joined(separator: " | ")
            finishBackup(startedAt: finished.startedAt, result: "failed", failedStep: failed,
                         detail: "\(statuses.map(\.description).joined(separator: ", ")): \(detail)", plan: plan)
        }
    }

    private func startBackupStep(_ step: BackupPlan.Step, plan: BackupPlan, startedAt: Duration) {
        let pipeline = plan.pipeline(step)
        backupStatus?.runningStep = step.rawValue
        let logs = pipeline.indices.map { backupLog(step, index: $0) }
        if let error = startJob(.backup(step), pipeline: pipeline, logs: logs, startedAt: startedAt) {
            finishBackup(startedAt: startedAt, result: "failed", failedStep: step, detail: error.message, plan: plan)
        }
    }

    /// Starts `pipeline` as the running job, its output into `logs`; the error if it could not start.
    @discardableResult
    private func startJob(_ kind: Job.Kind, pipeline: [WatchdogConfiguration.Command], logs: [String], startedAt: Duration) -> LaunchError? {
        var descriptors: [Int32] = []
        defer { descriptors.forEach { close($0) } }
        do {
            let pids = try ProcessLauncher.spawnPipeline(pipeline, output: { index in
                let fd = self.openLog(logs[index])
                if let fd { descriptors.append(fd) }
                return fd
            }, passwdFile: passwdFile)
            job = Job(kind: kind, pids: Dictionary(uniqueKeysWithValues: pids.map { ($0, nil) }), startedAt: startedAt)
            return nil
        } catch {
            logger.error("cannot start", metadata: ["name": "\(pipeline.first?.name ?? "?")", "error": "\(error.message)"])
            return error
        }
    }

    private func finishBackup(startedAt: Duration, result: String, failedStep: BackupPlan.Step?, detail: String?, plan: BackupPlan) {
        let finished = Date.now.formatted(.iso8601)
        backupStatus?.lastResult = result
        backupStatus?.runningStep = nil
        backupStatus?.lastFinishedAt = finished
        backupStatus?.lastDurationSeconds = WatchdogStatus.seconds(now - startedAt)
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

    private func snapshotsListed(_ finished: Job) {
        let log = BackupPlan.listLogPath(in: statusDirectory)
        guard finished.statuses.allSatisfy(\.succeeded), let output = readTextFile(log),
              let snapshots = WatchdogStatus.snapshots(inResticOutput: output) else {
            logger.warning("cannot list the snapshots", metadata: ["status": "\(finished.statuses.map(\.description).joined(separator: ","))",
                                                                   "output": "\(tailOfFile(log) ?? "")"])
            return
        }
        backupStatus?.snapshots = snapshots
        backupStatus?.snapshotsListedAt = Date.now.formatted(.iso8601)
    }

    /// Every service is down: replace the schema.
    private func startRestore() {
        guard let plan = backupPlan, let restore = restoreStatus else { return }
        restoreStatus?.result = "running"
        logger.notice("restoring the trading schema", metadata: ["snapshot": "\(restore.snapshot)"])
        let pipeline = plan.restorePipeline(snapshot: restore.snapshot, requestedBy: restore.requestedBy)
        if let error = startJob(.restore, pipeline: pipeline,
                                logs: BackupPlan.restoreLogPaths(in: statusDirectory), startedAt: now) {
            finishRestore(succeeded: false, detail: error.message)
        }
    }

    private func restoreEnded(_ finished: Job) {
        let succeeded = finished.statuses.allSatisfy(\.succeeded)
        let detail = succeeded ? nil : finished.statuses.map(\.description).joined(separator: ", ") + ": "
            + BackupPlan.restoreLogPaths(in: statusDirectory).compactMap { tailOfFile($0) }.joined(separator: " | ")
        finishRestore(succeeded: succeeded, detail: detail)
    }

    private func finishRestore(succeeded: Bool, detail: String?) {
        restoreStatus?.result = succeeded ? "succeeded" : "failed"
        restoreStatus?.finishedAt = Date.now.formatted(.iso8601)
        restoreStatus?.detail = detail
        if succeeded {
            logger.notice("restore succeeded: the halt latch is closed; migrating and starting the services",
                          metadata: ["snapshot": "\(restoreStatus?.snapshot ?? "")"])
        } else {
            logger.error("restore failed: the schema is unchanged; starting the services", metadata: ["detail": "\(detail ?? "")"])
        }
        // The snapshot's schema may be older than the binaries: migrate, then start.
        if let code = apply(supervisor.restoreEnded(succeeded: succeeded, at: now)) {
            logger.critical("unexpected exit request after a restore", metadata: ["code": "\(code)"])
        }
    }

    private func backupLog(_ step: BackupPlan.Step, index: Int) -> String {
        BackupPlan.logPath(step, index: index, in: statusDirectory)
    }

    private func stopJob() {
        guard let job else { return }
        for (pid, status) in job.pids where status == nil { kill(-pid, SIGTERM) }
    }

    private func killRemainingJob() {
        guard let running = job else { return }
        for (pid, status) in running.pids where status == nil {
            kill(-pid, SIGKILL)
            _ = ProcessLauncher.waitForExit(pid)
        }
        job = nil
        switch running.kind {
        case .backup(let step):
            backupStatus?.lastResult = "failed"
            backupStatus?.runningStep = nil
            backupStatus?.failedStep = step.rawValue
            backupStatus?.detail = "interrupted by the watchdog stopping"
        case .restore:
            restoreStatus?.result = "failed"
            restoreStatus?.detail = "interrupted by the watchdog stopping: the schema is unchanged"
        case .listSnapshots:
            break
        }
    }

    // MARK: Files

    private func writeStatus() {
        let status = WatchdogStatus(supervisor: supervisor, backup: backupStatus, restore: restoreStatus, pid: getpid(), now: now)
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
