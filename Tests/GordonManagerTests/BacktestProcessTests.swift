import Foundation
import GordonDomain
import GordonKlineFiles
import GordonStrategy
import GordonTestDB
import PostgresNIO
import Testing

extension ManagerProcessTests {
    /// Stores `series` in market_data.klines with the prices as the CSV file prints them, so
    /// the offline backtest over the file and the manager's over the database see the same bars.
    static func storeKlines(csv: String, _ admin: PostgresConnection) async throws {
        var columns = [[String]](repeating: [], count: 11)
        for line in csv.split(separator: "\n") {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 11, Int64(fields[0]) != nil else { continue }
            for index in 0..<11 { columns[index].append(fields[index]) }
        }
        try await admin.query("""
            INSERT INTO market_data.klines (symbol, interval, open_time, close_time, open, high, low, close, volume, quote_volume, trades,
                                            taker_buy_base_volume, taker_buy_quote_volume)
            SELECT 'BTCUSDT', '1m', 'epoch'::timestamptz + ot::bigint * interval '1 millisecond', 'epoch'::timestamptz + ct::bigint * interval '1 millisecond',
                   o::numeric, h::numeric, l::numeric, c::numeric, v::numeric, qv::numeric, n::bigint, tb::numeric, tq::numeric
            FROM unnest(\(columns[0]), \(columns[1]), \(columns[2]), \(columns[3]), \(columns[4]), \(columns[5]), \(columns[6]), \(columns[7]),
                        \(columns[8]), \(columns[9]), \(columns[10])) AS k(ot, o, h, l, c, v, ct, qv, n, tb, tq)
            """, logger: testLogger)
    }

    static func field(_ name: String, in summary: String) -> String? {
        summary.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map { $0.dropFirst(name.count).trimmingCharacters(in: .whitespaces) }
    }

    @Test("a backtest filed on the manager runs at nice 10 over the stored klines, gives what the offline backtest gives over the same bars, and keeps its equity curve")
    func backtestOnTheManager() async throws {
        try await withWorld { world, admin in
            try await world.startManager()
            let start: Int64 = 1_704_067_200_000
            let series = SyntheticMarket(seed: 7).generate(count: 3000, symbol: try Symbol("BTCUSDT"), interval: .oneMinute, startOpenTime: start)
            let csv = String(decoding: BinanceKlineCSV.write(series), as: UTF8.self)
            let csvPath = world.directory + "/BTCUSDT-1m.csv"
            try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
            try await Self.storeKlines(csv: csv, admin)

            let plan = ["backtest", "--strategy", "sma_crossover", "--param", "fast=10", "--param", "slow=30", "--symbol", "BTCUSDT",
                        "--interval", "1m", "--from", "\(start)", "--to", "\(start + 3000 * 60_000)", "--fees", "10"]
            let offline = try await TestCommand.runProgram(world.gordonctl, plan + ["--csv", csvPath, "--quiet"])
            #expect(offline.status == 0, "\(offline.stderr)")
            let submitted = try await world.ctl(plan + ["--submit", "--json"])
            #expect(submitted.status == 0, "\(submitted.stdout)\(submitted.stderr)")
            let run = try JSONSerialization.jsonObject(with: Data(submitted.stdout.utf8)) as? [String: Any]
            let summary = run?["summary"] as? [String: Any]
            #expect(run?["status"] as? String == "succeeded" && run?["progress"] as? Int == 100 && run?["requested_by"] as? String == "root",
                    "\(submitted.stdout)")
            #expect(summary?["nice"] as? Double == 10, "the worker runs below the services: \(String(describing: summary))")
            #expect(summary?["bars"] as? Double == 3000)
            let endEquity = (summary?["end_equity"] as? Double).map { String(format: "%.2f", $0) }
            #expect(endEquity != nil && endEquity == Self.field("end equity", in: offline.stdout), "\(offline.stdout)")
            #expect((summary?["trades"] as? Double).map { "\(Int($0))" } == Self.field("trades", in: offline.stdout))

            let id = try #require(run?["run_id"] as? String)
            let points = try await admin.query("""
                SELECT count(*), min(at), max(at), bool_and(abs(equity - cash - position_value) < 0.000001), max(drawdown)::float8
                FROM trading.equity_points WHERE run_id = \(UUID(uuidString: id)!)
                """, logger: testLogger).collect().first?.decode((Int, Date, Date, Bool, Double).self)
            #expect(points?.0 == 1501)  // every second bar of 3000, and the last
            #expect(points?.1 == Date(timeIntervalSince1970: Double(start) / 1000))
            #expect(points?.2 == Date(timeIntervalSince1970: Double(start + 2999 * 60_000) / 1000))
            #expect(points?.3 == true)
            let shown = try await world.ctl(["backtests", "show", id])
            #expect(shown.status == 0 && shown.stdout.contains("succeeded") && shown.stdout.contains("total_return"), "\(shown.stdout)")
            let listed = try await world.ctl(["backtests"])
            #expect(listed.status == 0 && listed.stdout.contains(id), "\(listed.stdout)")

            // Nothing stored for the range: the run fails and says why; exit 1.
            let empty = try await world.ctl(["backtest", "--strategy", "sma_crossover", "--symbol", "BTCUSDT", "--interval", "1m",
                                             "--from", "2020-01-01", "--to", "2020-01-02", "--submit"])
            #expect(empty.status == 1 && empty.stdout.contains("failed") && empty.stdout.contains("no BTCUSDT 1m klines stored"),
                    "\(empty.stdout)\(empty.stderr)")
            // A finished run has nothing to cancel; an unknown one is not found; bad input files nothing.
            let late = try await world.ctl(["backtests", "cancel", id])
            #expect(late.status == 1 && late.stderr.contains("succeeded: there is nothing to cancel"), "\(late.stderr)")
            let unknown = try await world.ctl(["backtests", "cancel", UUID().uuidString])
            #expect(unknown.status == 1 && unknown.stderr.contains("GORDON-MGR-0003"), "\(unknown.stderr)")
            let filed = try await admin.query("SELECT count(*) FROM trading.runs", logger: testLogger).collect().first!.decode(Int.self)
            for arguments in [["--strategy", "moonshot"], ["--strategy", "sma_crossover", "--param", "fast=0"]] {
                let refused = try await world.ctl(["backtest"] + arguments + ["--symbol", "BTCUSDT", "--interval", "1m",
                                                                                "--from", "2024-01-01", "--to", "2024-01-02", "--submit"])
                #expect(refused.status == 2, "\(arguments): \(refused.stderr)")
            }
            let (code, body) = try await Self.post(world.socket, "/api/v1/backtests", body: """
                {"plan":{"strategy":{"name":"sma_crossover","parameters":{}}},"symbol":"BTCUSDT","interval":"1m","from":2,"to":1,
                 "cash":"100","maker_fee_bps":"10","taker_fee_bps":"10","pay_fees_with_bnb":false,"fill":"next_open","slippage_bps":"0"}
                """)
            #expect(code == 400 && body.contains("from must be before to"), "\(body)")
            let after = try await admin.query("SELECT count(*) FROM trading.runs", logger: testLogger).collect().first!.decode(Int.self)
            #expect(after == filed)

            // The market data the manager reports: the series, and a bar gone missing.
            // The console's charts: the latest stored klines of a series, oldest first.
            let (klinesStatus, klinesBody) = try await Self.get(world.socket, "/api/v1/klines?symbol=BTCUSDT&interval=1m&limit=3")
            let latest = try JSONSerialization.jsonObject(with: Data(klinesBody.utf8)) as? [[String: Any]]
            let closes = latest?.compactMap { $0["close"] as? String }
            // (As stored: the file's own text for each close.)
            let expected = csv.split(separator: "\n").suffix(3).map { String($0.split(separator: ",")[4]) }
            #expect(klinesStatus == 200 && closes == expected, "\(klinesBody)")
            #expect(latest?.first?["open_time"] as? String ?? "" < latest?.last?["open_time"] as? String ?? "")
            for (path, message) in [("symbol=BTCUSDT&interval=7m", "not a kline interval"), ("symbol=btc%20usdt&interval=1m", "symbol"),
                                    ("symbol=BTCUSDT&interval=1m&limit=5000", "limit must be 1-1000")] {
                let (status, body) = try await Self.get(world.socket, "/api/v1/klines?" + path)
                #expect(status == 400 && body.contains(message), "\(path): \(body)")
            }

            let data = try await world.ctl(["data", "status"])
            #expect(data.status == 0 && data.stdout.contains("BTCUSDT") && data.stdout.contains("3000"), "\(data.stdout)\(data.stderr)")
            try await admin.query("DELETE FROM market_data.klines WHERE open_time = 'epoch'::timestamptz + \(start + 100 * 60_000) * interval '1 millisecond'",
                                  logger: testLogger)
            let gap = try await world.ctl(["data", "status", "--json"])
            let stored = (try JSONSerialization.jsonObject(with: Data(gap.stdout.utf8)) as? [String: Any])?["klines"] as? [[String: Any]]
            let klines = stored?.first?["klines"] as? Double
            let missing = stored?.first?["missing"] as? Double
            #expect(stored?.count == 1 && klines == 2999 && missing == 1, "\(gap.stdout)")
        }
    }
}

extension ManagerProcessTests {
    /// Whether a worker process of run `id` exists (its command line names the run).
    static func workerAlive(_ id: String) -> Bool {
        let pids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.filter { Int32($0) != nil } ?? []
        return pids.contains { pid in
            guard let bytes = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: bytes, as: UTF8.self).lowercased().contains(id.lowercased())
        }
    }

    static func runState(_ id: String, _ admin: PostgresConnection) async throws -> (status: String, progress: Int) {
        try await admin.query("SELECT status, progress FROM trading.runs WHERE run_id = \(UUID(uuidString: id)!)", logger: testLogger)
            .collect().first!.decode((String, Int).self)
    }

    @Test("a running backtest is cancelled by ending its process; one running when the manager stops goes back to the queue and runs when it is back")
    func backtestCancelledAndRequeued() async throws {
        try await withWorld { world, admin in
            try await world.startManager()
            let start: Int64 = 1_704_067_200_000
            let series = SyntheticMarket(seed: 3).generate(count: 300, symbol: try Symbol("BTCUSDT"), interval: .oneMinute, startOpenTime: start)
            try await Self.storeKlines(csv: String(decoding: BinanceKlineCSV.write(series), as: UTF8.self), admin)
            let plan = ["backtest", "--strategy", "sma_crossover", "--param", "fast=5", "--param", "slow=20", "--symbol", "BTCUSDT",
                        "--interval", "1m", "--from", "\(start)", "--to", "\(start + 300 * 60_000)", "--submit", "--detach", "--json"]
            // The klines held by a lock: each worker stays at its first read, running, until the lock goes.
            let locker = try await world.database.connect()
            defer { Task { try? await locker.close() } }
            try await locker.query("BEGIN", logger: testLogger)
            try await locker.query("LOCK TABLE market_data.klines IN ACCESS EXCLUSIVE MODE", logger: testLogger)

            func submit() async throws -> String {
                let filed = try await world.ctl(plan)
                #expect(filed.status == 0, "\(filed.stderr)")
                let run = try JSONSerialization.jsonObject(with: Data(filed.stdout.utf8)) as? [String: Any]
                return try #require(run?["run_id"] as? String)
            }
            let cancelled = try await submit()
            // Its process started and cannot finish: its first read waits for the lock.
            #expect(try await eventually(timeout: .seconds(30)) { Self.workerAlive(cancelled) })
            #expect(try await Self.runState(cancelled, admin).status == "running")
            let cancel = try await world.ctl(["backtests", "cancel", cancelled])
            #expect(cancel.status == 0 && cancel.stdout.contains("cancelling"), "\(cancel.stdout)\(cancel.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) { try await Self.runState(cancelled, admin).status == "cancelled" })
            #expect(!Self.workerAlive(cancelled), "the worker is gone")

            let requeued = try await submit()
            #expect(try await eventually(timeout: .seconds(30)) { Self.workerAlive(requeued) })
            #expect(try await Self.runState(requeued, admin).status == "running")
            #expect(try await world.manager?.stop()?.status == 0)
            #expect(try await Self.runState(requeued, admin) == ("queued", 0))
            #expect(!Self.workerAlive(requeued), "the worker went with the manager")

            try await locker.query("COMMIT", logger: testLogger)
            try await world.startManager()
            #expect(try await eventually(timeout: .seconds(60)) { try await Self.runState(requeued, admin).status == "succeeded" })
            #expect(try await Self.runState(cancelled, admin).status == "cancelled")
        }
    }
}
