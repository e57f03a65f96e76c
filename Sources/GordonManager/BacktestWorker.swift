#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import FoundationEssentials
public import GordonKernel
import GordonDomain
import GordonPostgres
import GordonStrategy
public import Logging
public import PostgresNIO
import Synchronization

#if canImport(Glibc)
private let processScope = __priority_which_t(PRIO_PROCESS.rawValue)
#else
private let processScope = PRIO_PROCESS
#endif

/// One backtest, run in a child process of gordon-manager (`gordon-manager backtest-run`) at
/// a lower CPU priority than the services: it lowers its own first thing. It reads its run's
/// request and the klines from the database, reports its progress in the run's row while it
/// works, and writes the summary and the equity curve with the run's end in one transaction.
public enum BacktestWorker {
    /// The CPU priority (nice) a backtest runs at: below the bots and the services.
    public static let niceness: Int32 = 10
    /// The equity curve is kept at no more than this many points, evenly spread, the last
    /// bar always among them.
    public static let maxEquityPoints = 2000

    /// Lowers this process to `niceness` (never raises it) and answers the priority it has.
    public static func lowerPriority() -> Int32 {
        if getpriority(processScope, 0) < niceness { _ = setpriority(processScope, 0, niceness) }
        return getpriority(processScope, 0)
    }

    public static func run(_ runId: UUID, database: PostgresClient, logger: Logger) async throws {
        let nice = lowerPriority()
        do {
            try await execute(runId, nice: nice, database: database, logger: logger)
        } catch {
            let message = (error as? GordonError).map { "\($0.code): \($0.message)" } ?? "\(error)"
            logger.error("backtest failed", metadata: ["run": "\(runId)", "error": "\(message)"])
            _ = try? await database.query("""
                UPDATE trading.runs SET status = 'failed', error = \(String(message.prefix(2000))), finished_at = now()
                WHERE run_id = \(runId) AND run_id IN (SELECT run_id FROM trading.v_runs WHERE status = 'running')
                """, logger: logger).collect()
            throw error
        }
    }

    static func execute(_ runId: UUID, nice: Int32, database: PostgresClient, logger: Logger) async throws {
        var requestText: String?
        for try await (text,) in try await database.query(
            "SELECT parameters::text FROM trading.v_runs WHERE run_id = \(runId) AND status = 'running'", logger: logger
        ).decode((String,).self) { requestText = text }
        guard let requestText else { throw GordonError(.notFound, "run \(runId) is not a running backtest") }
        let request: BacktestRequest
        do {
            request = try JSONDecoder().decode(BacktestRequest.self, from: Data(requestText.utf8))
        } catch {
            throw GordonError(.invalidBacktestConfig, "the run's request cannot be read: \(error)")
        }
        let (symbol, interval, settings) = try request.validated()
        let series = try await loadSeries(symbol: symbol, interval: interval, from: request.from, to: request.to,
                                          database: database, logger: logger)
        logger.info("backtest starting", metadata: ["run": "\(runId)", "bars": "\(series.count)", "nice": "\(nice)"])

        // The backtest runs on this task's thread; a second task writes how far it has got.
        let progress = ProgressCell()
        let reporter = Task {
            var reported = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let percent = progress.percent.load(ordering: .relaxed)
                guard percent != reported else { continue }
                reported = percent
                _ = try? await database.query(
                    "UPDATE trading.runs SET progress = \(percent) WHERE run_id = \(runId)", logger: logger).collect()
            }
        }
        let count = series.count
        let result: BacktestResult
        do {
            result = try Backtester(settings: settings).run(request.plan, on: series) { index in
                progress.percent.store(min(99, index * 100 / max(count, 1)), ordering: .relaxed)
            }
        } catch {
            reporter.cancel()
            throw error
        }
        reporter.cancel()
        try await record(result, runId: runId, bars: series.count, nice: nice, database: database, logger: logger)
        logger.info("backtest succeeded", metadata: ["run": "\(runId)", "total_return": "\(result.metrics.totalReturn)"])
    }

    /// Klines with open times in [from, to), oldest first; a gap is refused, as the offline
    /// backtest refuses one.
    static func loadSeries(symbol: Symbol, interval: Interval, from: Int64, to: Int64,
                           database: PostgresClient, logger: Logger) async throws -> BarSeries {
        var bars: [Bar] = []
        var decimals = 0
        let rows = try await database.query("""
            SELECT (extract(epoch FROM open_time) * 1000)::bigint, open::text, high::text, low::text, close::text, volume::text
            FROM market_data.v_klines_reader
            WHERE symbol = \(symbol.rawValue) AND interval = \(interval.rawValue)
              AND open_time >= 'epoch'::timestamptz + \(from) * interval '1 millisecond'
              AND open_time < 'epoch'::timestamptz + \(to) * interval '1 millisecond'
            ORDER BY open_time
            """, logger: logger)
        for try await (openTime, open, high, low, close, volume) in rows.decode((Int64, String, String, String, String, String).self) {
            for price in [open, high, low, close] { decimals = max(decimals, significantDecimals(price)) }
            guard let o = Double(open), let h = Double(high), let l = Double(low), let c = Double(close), let v = Double(volume) else {
                throw GordonError(.invalidMarketData, "a stored kline at \(openTime) is not numeric")
            }
            bars.append(Bar(openTime: openTime, open: o, high: h, low: l, close: c, volume: v))
        }
        let series = BarSeries(symbol: symbol, interval: interval, priceDecimals: min(decimals, 8), bars: bars)
        guard !series.isEmpty else {
            throw GordonError(.invalidMarketData, "no \(symbol) \(interval) klines stored between \(Timestamp(milliseconds: from)) and \(Timestamp(milliseconds: to))")
        }
        if let gap = series.gaps().first {
            throw GordonError(.marketDataGap, "gap in the stored klines: \(gap.missing) \(interval) kline(s) missing after "
                              + "\(Timestamp(milliseconds: series.openTime[gap.index - 1])); backfill it first")
        }
        return series
    }

    /// Fractional digits up to the last non-zero one (`97000.01000000` has 2).
    static func significantDecimals(_ text: String) -> Int {
        guard let dot = text.firstIndex(of: ".") else { return 0 }
        let fraction = text[text.index(after: dot)...]
        return fraction.lastIndex(where: { $0 != "0" }).map { fraction.distance(from: fraction.startIndex, to: $0) + 1 } ?? 0
    }

    static func record(_ result: BacktestResult, runId: UUID, bars: Int, nice: Int32, database: PostgresClient, logger: Logger) async throws {
        let metrics = result.metrics
        let summary: [String: JSONValue] = [
            "bars": .number(Double(bars)), "start_equity": .number(metrics.startEquity), "end_equity": .number(metrics.endEquity),
            "total_return": .number(metrics.totalReturn), "annualised_return": .number(metrics.annualisedReturn),
            "max_drawdown": .number(metrics.maxDrawdown), "sharpe": .number(metrics.sharpe), "sortino": .number(metrics.sortino),
            "trades": .number(Double(metrics.tradeCount)), "win_rate": .number(metrics.winRate), "exposure": .number(metrics.exposure),
            "total_commission": .string(result.totalCommission.description), "nice": .number(Double(nice)),
        ]
        let summaryText = JSONValue.object(summary.mapValues { value in
            if case .number(let number) = value, !number.isFinite { return .null }
            return value
        }).description
        let step = max(1, (result.equity.count + maxEquityPoints - 1) / maxEquityPoints)
        var indices = Array(stride(from: 0, to: result.equity.count, by: step))
        if indices.last != result.equity.count - 1 { indices.append(result.equity.count - 1) }
        var peak = -Double.infinity
        var times: [Int64] = [], equity: [String] = [], cash: [String] = [], positions: [String] = [], drawdowns: [String] = []
        var cursor = 0
        for index in indices {
            // The drawdown from the peak of every bar up to this one, not only the kept ones.
            while cursor <= index {
                peak = max(peak, result.equity[cursor])
                cursor += 1
            }
            let value = result.equity[index]
            times.append(result.times[index])
            equity.append(number(value))
            cash.append(number(result.cash[index]))
            positions.append(number(value - result.cash[index]))
            drawdowns.append(number(peak > 0 ? max(0, (peak - value) / peak) : 0))
        }
        try await database.withConnection { connection in
          try await connection.withTransaction(logger: logger) { connection -> TransactionEnd<Void> in
            try await connection.query("""
                INSERT INTO trading.equity_points (run_id, at, equity, cash, position_value, drawdown)
                SELECT \(runId), 'epoch'::timestamptz + t * interval '1 millisecond', e::numeric, c::numeric, p::numeric, d::numeric
                FROM unnest(\(times)::bigint[], \(equity)::text[], \(cash)::text[], \(positions)::text[], \(drawdowns)::text[]) AS x(t, e, c, p, d)
                """, logger: logger)
            try await connection.query("""
                UPDATE trading.runs SET status = 'succeeded', progress = 100, summary = \(summaryText)::jsonb, finished_at = now()
                WHERE run_id = (SELECT run_id FROM trading.v_runs WHERE run_id = \(runId) AND status = 'running')
                """, logger: logger)
            return .commit(())
          }
        }
    }

    final class ProgressCell: Sendable {
        let percent = Atomic<Int>(0)
    }

    /// A Double as PostgreSQL's numeric reads it (never an exponent it would refuse).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return Format.fixed(value, 8)
    }
}
