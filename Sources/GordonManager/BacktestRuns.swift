#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import FoundationEssentials
public import GordonKernel
import GordonPostgres
public import GordonProcess
public import Logging
public import PostgresNIO

/// gordon-manager's backtests: filed in `trading.runs`, run one at a time, oldest first, each
/// in a child process (`gordon-manager backtest-run`, which lowers its own priority to nice
/// 10: the bots and services come first on the Pi's cores), watched until it ends, and
/// cancellable while queued or running.
public actor BacktestRuns {
    /// How to start a worker: the program and the arguments before `--run-id`.
    public struct Worker: Sendable {
        public let executable: String
        public let arguments: [String]

        public init(executable: String, arguments: [String]) {
            self.executable = executable
            self.arguments = arguments
        }
    }

    let worker: Worker
    let database: PostgresClient
    let logger: Logger
    private var running: (id: UUID, pid: pid_t, cancelled: Bool)?
    /// The manager is stopping: nothing new starts.
    private var stopping = false

    public init(worker: Worker, database: PostgresClient, logger: Logger) {
        self.worker = worker
        self.database = database
        self.logger = logger
    }

    /// At start: a run left running by a manager that stopped has no process any more; the
    /// queued ones start.
    public func recover() async {
        do {
            try await database.query("""
                UPDATE trading.runs SET status = 'failed', error = 'interrupted: gordon-manager stopped while it ran', finished_at = now()
                WHERE run_id IN (SELECT run_id FROM trading.v_runs WHERE kind = 'backtest' AND status = 'running')
                """, logger: logger)
        } catch {
            logger.error("cannot close the interrupted backtests", metadata: ["error": "\(error)"])
        }
        await startNext()
    }

    /// The manager is stopping: its running backtest ends and goes back to the queue, to run
    /// again from the start when the manager is back.
    public func requeueRunning() async {
        stopping = true
        guard let running else { return }
        kill(running.pid, SIGTERM)
        var raw: Int32 = 0
        _ = waitpid(running.pid, &raw, 0)
        self.running = nil
        do {
            try await database.query("""
                UPDATE trading.runs SET status = 'queued', progress = 0
                WHERE run_id = (SELECT run_id FROM trading.v_runs WHERE run_id = \(running.id) AND status = 'running')
                """, logger: logger)
            logger.notice("backtest back in the queue: gordon-manager is stopping", metadata: ["run": "\(running.id)"])
        } catch {
            logger.error("cannot put a stopped backtest back in the queue", metadata: ["run": "\(running.id)", "error": "\(error)"])
        }
    }

    public func submit(_ request: BacktestRequest, by caller: String) async throws -> UUID {
        let (symbol, interval, _) = try request.validated()
        let id = UUID()
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let parameters = String(decoding: try encoder.encode(request), as: UTF8.self)
        try await database.query("""
            INSERT INTO trading.runs (run_id, kind, strategy, parameters, symbol, interval, from_time, to_time, status, requested_by)
            VALUES (\(id), 'backtest', \(request.plan.strategy.name), \(parameters)::jsonb, \(symbol.rawValue), \(interval.rawValue),
                    'epoch'::timestamptz + \(request.from) * interval '1 millisecond',
                    'epoch'::timestamptz + \(request.to) * interval '1 millisecond', 'queued', \(caller))
            """, logger: logger)
        logger.notice("backtest filed", metadata: ["run": "\(id)", "strategy": "\(request.plan.strategy.name)", "operator": "\(caller)"])
        await startNext()
        return id
    }

    /// Cancels a queued run at once, a running one by ending its process.
    public func cancel(_ id: UUID, by caller: String) async throws -> String {
        if let running, running.id == id {
            self.running?.cancelled = true
            kill(running.pid, SIGTERM)
            logger.notice("backtest cancelled", metadata: ["run": "\(id)", "operator": "\(caller)"])
            return "cancelling: its process is ending"
        }
        var cancelled = false
        for try await _ in try await database.query("""
            UPDATE trading.runs SET status = 'cancelled', finished_at = now()
            WHERE run_id = (SELECT run_id FROM trading.v_runs WHERE run_id = \(id) AND status = 'queued') RETURNING run_id
            """, logger: logger) { cancelled = true }
        guard cancelled else {
            var status: String?
            for try await (state,) in try await database.query("SELECT status FROM trading.v_runs WHERE run_id = \(id)", logger: logger)
                .decode((String,).self) { status = state }
            guard let status else { throw GordonError(.notFound, "there is no run \(id)") }
            throw GordonError(.requestRefused, "run \(id) is \(status): there is nothing to cancel")
        }
        logger.notice("backtest cancelled", metadata: ["run": "\(id)", "operator": "\(caller)"])
        return "cancelled"
    }

    private func startNext() async {
        guard running == nil, !stopping else { return }
        var next: UUID?
        do {
            for try await (id,) in try await database.query("""
                UPDATE trading.runs SET status = 'running'
                WHERE run_id = (SELECT run_id FROM trading.v_runs WHERE kind = 'backtest' AND status = 'queued'
                                ORDER BY created_at, run_id LIMIT 1)
                RETURNING run_id
                """, logger: logger).decode((UUID,).self) { next = id }
        } catch {
            logger.error("cannot start the next backtest", metadata: ["error": "\(error)"])
            return
        }
        guard let id = next else { return }
        let command = ProcessCommand(name: "backtest \(id)", executable: worker.executable,
                                     arguments: worker.arguments + ["--run-id", id.uuidString])
        let pid: pid_t
        do {
            pid = try ProcessLauncher.spawn(command)
        } catch {
            logger.error("cannot start a backtest worker", metadata: ["run": "\(id)", "error": "\(error)"])
            await finish(id, detail: "its process could not start: \(error)", cancelled: false)
            await startNext()
            return
        }
        running = (id, pid, false)
        logger.info("backtest running", metadata: ["run": "\(id)", "pid": "\(pid)"])
        Task { await self.watch(id, pid: pid) }
    }

    /// Waits for the worker without holding a thread: it may run for minutes.
    private func watch(_ id: UUID, pid: pid_t) async {
        var raw: Int32 = 0
        var reaped = waitpid(pid, &raw, WNOHANG)
        while reaped == 0 {
            try? await Task.sleep(for: .milliseconds(200))  // a poll of the child's state, not a wait for a result
            reaped = waitpid(pid, &raw, WNOHANG)
        }
        guard reaped == pid else { return }  // reaped by requeueRunning: the manager is stopping
        let status = ProcessLauncher.exitStatus(fromWaitStatus: raw)
        let cancelled = running?.cancelled ?? false
        running = nil
        logger.info("backtest process ended", metadata: ["run": "\(id)", "status": "\(status)"])
        if cancelled || !status.succeeded {
            await finish(id, detail: "its process ended: \(status)", cancelled: cancelled)
        }
        await startNext()
    }

    /// A run whose process ended without recording its end: cancelled, or failed.
    private func finish(_ id: UUID, detail: String, cancelled: Bool) async {
        do {
            try await database.query("""
                UPDATE trading.runs SET status = \(cancelled ? "cancelled" : "failed"),
                       error = \(cancelled ? nil : detail), finished_at = now()
                WHERE run_id = (SELECT run_id FROM trading.v_runs WHERE run_id = \(id) AND status IN ('running', 'queued'))
                """, logger: logger)
        } catch {
            logger.error("cannot record a backtest's end", metadata: ["run": "\(id)", "error": "\(error)"])
        }
    }

    // MARK: Reading

    static func runsQuery(id: UUID?, limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(r ORDER BY r.created_at DESC, r.run_id), '[]')::text FROM (
            SELECT run_id, kind, strategy, symbol, interval, from_time, to_time, status, progress, summary, error, requested_by,
                   created_at, finished_at, parameters AS request
            FROM trading.v_runs WHERE kind = 'backtest' AND (\(id)::uuid IS NULL OR run_id = \(id))
            ORDER BY created_at DESC, run_id LIMIT \(limit)) r
        """
    }

    static func equityQuery(id: UUID) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(p ORDER BY p.at), '[]')::text FROM (
            SELECT at, equity::text AS equity, cash::text AS cash, position_value::text AS position_value, drawdown::text AS drawdown
            FROM trading.v_equity_points WHERE run_id = \(id)) p
        """
    }
}
