public import GordonProcess

/// The watchdog's decisions as a plain value: fed the start, process exits, the clock and
/// stop requests, it answers with what to do. It never touches a process itself, so the
/// ordering, backoff, crash-loop and stop rules are tested without spawning anything.
///
/// Time is a `Duration` since the watchdog started (monotonic; wall clock jumps on a Pi
/// without a battery-backed clock must not trigger or delay restarts).
public struct Supervisor: Sendable {
    public enum Unit: Hashable, Sendable {
        case migrate
        case service(Int)
    }

    public enum Action: Equatable, Sendable {
        case start(Unit)
        /// To the child's whole process group.
        case signal(pid: Int32, signal: Int32)
        case exit(code: Int32)
        /// Every service is down for a restore: the runner may replace the schema now.
        case servicesStopped
    }

    public enum Phase: String, Sendable, Equatable {
        case migrating
        /// The migration failed; it is retried after a backoff and no service runs.
        case migrateFailed = "migrate_failed"
        case running
        case stopping
        case stopped
        /// An operator asked for a restore: the services stop, in reverse order, first.
        case stoppingForRestore = "stopping_for_restore"
        /// Every service is down while the trading schema is replaced; the migrator and the
        /// services start again after it, whether it succeeded or not.
        case restoring
    }

    public enum ServiceState: String, Sendable, Equatable {
        case waiting, running, backoff
        /// Crashed `crashLoopLimit` times within the window: left down until the operator acts.
        case crashLoop = "crash_loop"
        case stopping, stopped
        /// Gone from the configuration at a reload: never started again, left out of the status.
        case retired
    }

    public struct Service: Sendable, Equatable {
        public let name: String
        public internal(set) var state: ServiceState = .waiting
        public internal(set) var pid: Int32?
        public internal(set) var restarts = 0
        public internal(set) var lastExit: ExitStatus?
        public internal(set) var nextStart: Duration?
        var startedAt: Duration?
        var crashes: [Duration] = []
        var backoff: Duration
        var stopDeadline: Duration?
        var killed = false
        /// Stopping for a reload: started again at once with its new command, or retired.
        var afterStop: AfterStop?

        enum AfterStop: Sendable, Equatable { case restart, retire }
    }

    public private(set) var phase: Phase = .migrating
    public private(set) var services: [Service]
    /// Why the watchdog is where it is, for the log and the status file.
    public private(set) var reason = "starting"
    public private(set) var migrateAttempts = 0
    public private(set) var nextMigrate: Duration?
    private var migratePid: Int32?
    private var migrateBackoff: Duration
    private var migrateStopDeadline: Duration?
    private var migrateKilled = false
    private let policy: WatchdogConfiguration.RestartPolicy
    private let grace: Duration

    public init(serviceNames: [String], policy: WatchdogConfiguration.RestartPolicy, stopGrace: Duration) {
        self.policy = policy
        self.grace = stopGrace
        self.migrateBackoff = .seconds(policy.initialBackoffSeconds)
        self.services = serviceNames.map { Service(name: $0, backoff: .seconds(policy.initialBackoffSeconds)) }
    }

    /// The first step: the migrator, and nothing else until it succeeds.
    public mutating func begin() -> [Action] {
        phase = .migrating
        migrateAttempts = 1
        reason = "migrating the database"
        return [.start(.migrate)]
    }

    /// The launcher started `unit` as `pid`.
    public mutating func launched(_ unit: Unit, pid: Int32, at now: Duration) {
        switch unit {
        case .migrate:
            migratePid = pid
        case .service(let index):
            services[index].pid = pid
            services[index].state = phase == .stopping ? .stopping : .running
            services[index].startedAt = now
            services[index].nextStart = nil
        }
    }

    /// The process `unit` ended (or could not be started), with `detail` for the status
    /// (the tail of the migrator's output, say).
    public mutating func ended(_ unit: Unit, status: ExitStatus, detail: String? = nil, at now: Duration) -> [Action] {
        switch unit {
        case .migrate: return migrateEnded(status: status, detail: detail, at: now)
        case .service(let index): return serviceEnded(index, status: status, at: now)
        }
    }

    /// The unit a child process belongs to.
    public func unit(of pid: Int32) -> Unit? {
        if pid == migratePid { return .migrate }
        return services.firstIndex { $0.pid == pid }.map { .service($0) }
    }

    private mutating func migrateEnded(status: ExitStatus, detail: String?, at now: Duration) -> [Action] {
        migratePid = nil
        if phase == .stopping {
            phase = .stopped
            reason = "stopped"
            return [.exit(code: 0)]
        }
        if status.succeeded {
            phase = .running
            reason = "migrated; services started"
            nextMigrate = nil
            return services.indices.filter { services[$0].state != .retired }.map { .start(.service($0)) }
        }
        phase = .migrateFailed
        nextMigrate = now + migrateBackoff
        reason = "migration failed (\(status)); no service starts; retry \(migrateAttempts + 1) in \(Self.seconds(migrateBackoff))"
            + (detail.map { ": \($0)" } ?? "")
        migrateBackoff = min(migrateBackoff * 2, .seconds(policy.maximumBackoffSeconds))
        return []
    }

    private mutating func serviceEnded(_ index: Int, status: ExitStatus, at now: Duration) -> [Action] {
        services[index].pid = nil
        services[index].lastExit = status
        if let after = services[index].afterStop, phase != .stopping, phase != .stoppingForRestore {
            return reloaded(index, after, at: now)
        }
        if phase == .stopping || phase == .stoppingForRestore {
            services[index].state = .stopped
            services[index].stopDeadline = nil
            return stopNext(at: now)
        }
        var service = services[index]
        if let startedAt = service.startedAt, now - startedAt >= .seconds(policy.healthyAfterSeconds) {
            service.backoff = .seconds(policy.initialBackoffSeconds)
        }
        service.crashes = service.crashes.filter { now - $0 < .seconds(policy.crashLoopWindowSeconds) } + [now]
        if service.crashes.count >= policy.crashLoopLimit {
            service.state = .crashLoop
            service.nextStart = nil
            reason = "\(service.name) crashed \(service.crashes.count) times within \(Self.seconds(.seconds(policy.crashLoopWindowSeconds))) (last: \(status)); left down"
        } else {
            service.state = .backoff
            service.nextStart = now + service.backoff
            reason = "\(service.name) ended (\(status)); restarting in \(Self.seconds(service.backoff))"
            service.backoff = min(service.backoff * 2, .seconds(policy.maximumBackoffSeconds))
        }
        services[index] = service
        return []
    }

    /// Whatever is due at `now`: a migration retry, restarts, SIGKILL after the grace period.
    public mutating func tick(at now: Duration) -> [Action] {
        var actions: [Action] = []
        switch phase {
        case .migrateFailed:
            if let due = nextMigrate, now >= due {
                phase = .migrating
                nextMigrate = nil
                migrateAttempts += 1
                reason = "migrating the database (attempt \(migrateAttempts))"
                actions.append(.start(.migrate))
            }
        case .running:
            for index in services.indices where services[index].state == .backoff {
                if let due = services[index].nextStart, now >= due {
                    services[index].restarts += 1
                    services[index].nextStart = nil
                    actions.append(.start(.service(index)))
                }
            }
            actions += killAfterGrace(at: now)
        case .stopping, .stoppingForRestore:
            if let deadline = migrateStopDeadline, let pid = migratePid, now >= deadline, !migrateKilled {
                migrateKilled = true
                actions.append(.signal(pid: pid, signal: 9))
            }
            actions += killAfterGrace(at: now)
        case .migrating, .stopped, .restoring:
            break
        }
        return actions
    }

    /// SIGKILL for every service whose grace after SIGTERM is over.
    private mutating func killAfterGrace(at now: Duration) -> [Action] {
        var actions: [Action] = []
        for index in services.indices {
            if let deadline = services[index].stopDeadline, let pid = services[index].pid, now >= deadline, !services[index].killed {
                services[index].killed = true
                reason = "\(services[index].name) ignored SIGTERM for \(Self.seconds(grace)); SIGKILL"
                actions.append(.signal(pid: pid, signal: 9))
            }
        }
        return actions
    }

    /// A reloaded configuration (SIGHUP): `names` in their new order, `changed` those whose
    /// command differs. A new service is appended (started once the migration is done; the
    /// runner appends its command likewise, so indices stay put); a changed one is stopped
    /// and started again at once; a removed one is stopped and retired; one left down after
    /// crash-looping starts again, the operator having acted. The rest are not touched.
    /// Refused (nil) while stopping or restoring.
    public mutating func reconfigure(_ names: [String], changed: Set<String>, at now: Duration) -> [Action]? {
        guard phase == .running || phase == .migrating || phase == .migrateFailed else { return nil }
        var actions: [Action] = []
        let wanted = Set(names)
        for index in services.indices where services[index].state != .retired && !wanted.contains(services[index].name) {
            actions += stopForReload(index, then: .retire, at: now)
        }
        for name in names {
            guard let index = services.firstIndex(where: { $0.name == name && $0.state != .retired }) else {
                services.append(Service(name: name, backoff: .seconds(policy.initialBackoffSeconds)))
                if phase == .running { actions.append(.start(.service(services.count - 1))) }
                continue
            }
            if changed.contains(name) {
                actions += stopForReload(index, then: .restart, at: now)
            } else if services[index].state == .crashLoop, phase == .running {
                services[index].crashes = []
                services[index].backoff = .seconds(policy.initialBackoffSeconds)
                services[index].restarts += 1
                actions.append(.start(.service(index)))
            }
        }
        reason = "configuration reloaded"
        return actions
    }

    private mutating func stopForReload(_ index: Int, then after: Service.AfterStop, at now: Duration) -> [Action] {
        guard let pid = services[index].pid else { return reloaded(index, after, at: now) }
        services[index].afterStop = after
        guard services[index].stopDeadline == nil else { return [] }  // already on its way down
        services[index].state = .stopping
        services[index].stopDeadline = now + grace
        return [.signal(pid: pid, signal: 15)]
    }

    /// A service stopped for a reload (or not running when it came): retired, or started
    /// afresh with its new command, its crash history forgotten.
    private mutating func reloaded(_ index: Int, _ after: Service.AfterStop, at now: Duration) -> [Action] {
        var service = Service(name: services[index].name, restarts: services[index].restarts, lastExit: services[index].lastExit,
                              backoff: .seconds(policy.initialBackoffSeconds))
        switch after {
        case .retire:
            service.state = .retired
            services[index] = service
            return []
        case .restart:
            services[index] = service
            guard phase == .running else { return [] }  // waiting: starts after the migration
            services[index].restarts += 1
            return [.start(.service(index))]
        }
    }

    /// SIGTERM (or SIGINT): stop everything, services in the reverse of their start order,
    /// each given the grace period before SIGKILL.
    public mutating func stopRequested(at now: Duration) -> [Action] {
        guard phase != .stopping, phase != .stopped else { return [] }
        let wasMigrating = phase == .migrating
        phase = .stopping
        reason = "stopping"
        stopIdleServices()
        if wasMigrating, let pid = migratePid {
            migrateStopDeadline = now + grace
            return [.signal(pid: pid, signal: 15)]
        }
        return stopNext(at: now)
    }

    /// An operator's restore: every service stops as on SIGTERM, but the watchdog stays;
    /// `.servicesStopped` says when the schema may be replaced. Only while running.
    public mutating func stopForRestore(at now: Duration) -> [Action] {
        guard phase == .running else { return [] }
        phase = .stoppingForRestore
        reason = "stopping every service for a restore"
        stopIdleServices()
        return stopNext(at: now)
    }

    /// The restore ended (`succeeded` or not): migrate again, then start every service afresh.
    /// A failed restore changed nothing (one transaction), so the services come back either way.
    public mutating func restoreEnded(succeeded: Bool, at now: Duration) -> [Action] {
        guard phase == .restoring else { return [] }
        phase = .migrating
        migrateAttempts += 1
        migrateBackoff = .seconds(policy.initialBackoffSeconds)
        reason = succeeded ? "restored; migrating the database" : "restore failed; migrating the database"
        for index in services.indices where services[index].state != .retired {
            services[index] = Service(name: services[index].name, restarts: services[index].restarts,
                                      lastExit: services[index].lastExit, backoff: .seconds(policy.initialBackoffSeconds))
        }
        return [.start(.migrate)]
    }

    /// A service not running (waiting, in backoff or left down) is not started again.
    private mutating func stopIdleServices() {
        for index in services.indices where services[index].pid == nil && services[index].state != .retired {
            services[index].state = .stopped
            services[index].nextStart = nil
        }
    }

    private mutating func stopNext(at now: Duration) -> [Action] {
        guard let index = services.lastIndex(where: { $0.pid != nil }) else {
            if phase == .stoppingForRestore {
                phase = .restoring
                reason = "restoring the trading schema"
                return [.servicesStopped]
            }
            phase = .stopped
            reason = "stopped"
            return [.exit(code: 0)]
        }
        guard services[index].stopDeadline == nil else { return [] }  // already on its way down
        services[index].state = .stopping
        services[index].stopDeadline = now + grace
        return [.signal(pid: services[index].pid!, signal: 15)]
    }

    /// The next moment `tick` has something to do, if any.
    public var nextDeadline: Duration? {
        var candidates: [Duration] = []
        if phase == .migrateFailed, let nextMigrate { candidates.append(nextMigrate) }
        if phase == .running {
            candidates += services.compactMap { $0.state == .backoff ? $0.nextStart : nil }
            candidates += services.compactMap { !$0.killed && $0.pid != nil ? $0.stopDeadline : nil }
        }
        if phase == .stopping || phase == .stoppingForRestore {
            if !migrateKilled, migratePid != nil, let deadline = migrateStopDeadline { candidates.append(deadline) }
            candidates += services.compactMap { !$0.killed && $0.pid != nil ? $0.stopDeadline : nil }
        }
        return candidates.min()
    }

    /// Every child still running, for a last SIGKILL if the watchdog itself must go.
    public var runningPids: [Int32] { ([migratePid] + services.map(\.pid)).compactMap { $0 } }

    static func seconds(_ duration: Duration) -> String {
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }
}
