// gordon-trading-bench: tick → order. A BinanceSim closes one kline at a time; gordon-data
// stores and publishes it, the bot's plan turns it into an intent (recorded with its outbox
// event), the bot's relay publishes it, gordon-executor checks, records and places it, and the
// simulator acknowledges the order. Measured from the simulator closing the kline to the
// simulator accepting the order, for every kline that makes one; PostgreSQL with fsync on.
// Every part is the release executable, as its own role and keyfile, on loopback. Also the
// idle resident set of gordon-bot, gordon-executor, gordon-risk and gordon-manager once ready.
// Then breaker trip → flatten: gordon-risk restarted with a drawdown limit, and for each
// round the bot's allocation cut while it holds a position, so equity falls through the
// limit; measured from the trip risk records to the simulator's answer to the flatten's
// sell, as the executor records it.
import ArgumentParser
import BinanceSim
import Foundation
import GordonBus
import GordonDomain
import GordonKernel
import GordonMigrations
import GordonNATS
import GordonPostgres
import GordonStrategy
import Logging
import PostgresNIO

@main
struct TradingBench: AsyncParsableCommand {
    @Option(help: "Superuser PostgreSQL URL of a throwaway server") var adminURL: String
    @Option(help: "Migrations directory") var migrations: String
    @Option(help: "NATS URL of a throwaway server with JetStream") var natsURL: String
    @Option(help: "Directory of the release executables (gordon-data, gordon-bot, gordon-executor, gordon-outbox-relay)") var bin: String
    @Option(help: "Klines closed one at a time") var klines: Int = 600
    @Option(help: "Breaker trips, each flattening the bot's position") var trips: Int = 20
    @Option(help: "Least time between two klines, in milliseconds: Binance allows an account 100 orders per 10 s and request weight 6000 per minute (each intent's check reads the account, weight 20), so the market is paced below both")
    var paceMilliseconds: Int = 300

    static let bot = "bench"

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let symbol = try Symbol("BTCUSDT")
        let admin = try DatabaseURL(parsing: adminURL)
        let name = "bench_\(UInt32.random(in: 0...UInt32.max))"
        try await Database.withConnection(admin, logger: logger) { try await $0.query("CREATE DATABASE \(unescaped: name)", logger: logger) }
        let database = admin.with(database: name)
        func password() -> Secret { Secret(String(UInt64.random(in: 0...UInt64.max), radix: 36) + "Bench") }
        let (dataPassword, executorPassword, botPassword, riskPassword) = (password(), password(), password(), password())
        let managerPassword = password()
        let botRole = try await Database.withConnection(database, logger: logger) { connection in
            _ = try await Migrator(directory: try MigrationDirectory(path: migrations), logger: logger).migrate(on: connection)
            try await RolePassword.set(role: .dataWriter, password: dataPassword, on: connection)
            try await RolePassword.set(role: .executor, password: executorPassword, on: connection)
            try await RolePassword.set(role: .risk, password: riskPassword, on: connection)
            try await RolePassword.set(role: .manager, password: managerPassword, on: connection)
            let role = try await BotRole.ensure(botId: Self.bot, password: botPassword, on: connection, logger: logger)
            // Enters whenever flat (RSI(2) below 99.99, which is nearly always) and leaves after
            // one bar held: most klines make an order.
            try await connection.query("""
                INSERT INTO trading.bot_configs (bot_id, strategy, parameters, overlays, symbols, interval, desired_state, max_quote_exposure)
                VALUES (\(Self.bot), 'rsi_mean_reversion', '{"period": 2, "oversold": 99.99, "overbought": 100}',
                        '[{"name": "time_stop", "parameters": {"bars": 1}}]', '{BTCUSDT}', '1m', 'running', 1000)
                """, logger: logger)
            try await connection.query("UPDATE trading.halt_latch SET halted = false, reason = 'benchmark', changed_by = 'operator:bench'",
                                       logger: logger)
            return role
        }

        let series = SyntheticMarket(seed: 7, startPrice: 30_000, priceDecimals: 2)
            .generate(count: klines + 100 + trips * 50, symbol: symbol, interval: .oneMinute, startOpenTime: 1_704_067_200_000)
        let apiKey = String(UInt64.random(in: 0...UInt64.max), radix: 16) + "benchkey"
        let apiSecret = String(UInt64.random(in: 0...UInt64.max), radix: 16) + "benchsecret"
        let simulator = BinanceSimulator(
            configuration: SimConfiguration(symbols: [try SimConfiguration.spotSymbol(symbol)], balances: [try Asset("USDT"): 1_000_000],
                                            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: Secret(apiSecret))]),
            feed: try SimMarketFeed(series: [series], preloaded: 20))
        let (simPort, simServer) = try await SimHTTPServer(simulator: simulator, port: 0, logger: logger).start()
        defer { simServer.cancel() }
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsURL], name: "trading-bench"))
        let jetStream = JetStream(client: nats)
        try await GordonStream.ensure(jetStream, GordonStream.configuration(maxBytes: 1 << 30))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-trading-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func keyfile(_ name: String, _ secret: Secret, extra: String = "") throws -> String {
            let path = "\(directory)/\(name).key"
            try secret.withPlainText { "postgres_password = \($0)\n" + extra }.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o400)
            return path
        }
        let dataKey = try keyfile("gordon-data", dataPassword)
        let botKey = try keyfile("gordon-bot-\(Self.bot)", botPassword)
        let executorKey = try keyfile("gordon-executor", executorPassword, extra: "binance_api_key = \(apiKey)\nbinance_api_secret = \(apiSecret)\n")
        let riskKey = try keyfile("gordon-risk", riskPassword)
        let managerKey = try keyfile("gordon-manager", managerPassword)
        try "ops:x:\(getgid()):\n".write(toFile: "\(directory)/group", atomically: true, encoding: .utf8)
        func url(_ role: String) -> String { database.with(username: role, password: nil).description }
        let simURL = "http://127.0.0.1:\(simPort)"
        let common = ["--nats-url", natsURL, "--http-port", "0"]

        var processes: [Process] = []
        defer { for process in processes where process.isRunning { process.terminate(); process.waitUntilExit() } }
        func start(_ program: String, _ arguments: [String], log: String) throws -> Process {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(bin)/\(program)")
            process.arguments = arguments + common
            FileManager.default.createFile(atPath: "\(directory)/\(log).out", contents: nil)
            process.standardOutput = FileHandle(forWritingAtPath: "\(directory)/\(log).out")
            FileManager.default.createFile(atPath: "\(directory)/\(log).err", contents: nil)
            process.standardError = FileHandle(forWritingAtPath: "\(directory)/\(log).err")
            try process.run()
            processes.append(process)
            return process
        }
        func listening(_ log: String) async throws -> String {
            for _ in 0..<600 {
                let text = (try? String(contentsOfFile: "\(directory)/\(log).out", encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.contains(" listening on ") }) {
                    return String(line[line.range(of: " listening on ")!.upperBound...])
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw ValidationError("\(log) did not start")
        }

        _ = try start("gordon-data", ["--database-url", url("gordon_data_writer"), "--keyfile", dataKey, "--binance", simURL, "--kline", "BTCUSDT@1m"],
                      log: "data")
        let dataBase = try await listening("data")
        let executor = try start("gordon-executor", ["--database-url", url("gordon_executor"), "--keyfile", executorKey, "--binance", simURL,
                                                     "--max-order-notional", "5000", "--max-position-notional", "5000",
                                                     "--max-gross-exposure", "10000"], log: "executor")
        _ = try await listening("executor")
        _ = try start("gordon-outbox-relay", ["--database-url", url("gordon_executor"), "--keyfile", executorKey], log: "executor-relay")
        // gordon-risk watches the run (its thresholds out of the way: nothing may trip here).
        let risk = try start("gordon-risk", ["--database-url", url("gordon_risk"), "--keyfile", riskKey, "--max-drawdown", "0.9",
                                             "--max-daily-loss", "0.9", "--max-gross-exposure", "1000000", "--max-rejects-per-minute", "100000",
                                             "--max-orders-per-minute-per-bot", "100000"], log: "risk")
        _ = try await listening("risk")
        _ = try start("gordon-outbox-relay", ["--database-url", url("gordon_risk"), "--keyfile", riskKey], log: "risk-relay")
        let manager = try start("gordon-manager", ["--database-url", url("gordon_manager"), "--keyfile", managerKey, "--socket",
                                                   "\(directory)/manager.sock", "--operators-group", "ops", "--group-file", "\(directory)/group"],
                                log: "manager")
        _ = try await listening("manager")
        let bot = try start("gordon-bot", ["--bot", Self.bot, "--database-url", url(botRole), "--keyfile", botKey, "--data-url", dataBase],
                            log: "bot")
        _ = try await listening("bot")
        _ = try start("gordon-outbox-relay", ["--database-url", url(botRole), "--keyfile", botKey], log: "bot-relay")
        // Ready: the market stream connected and the bot's consumer created.
        for _ in 0..<600 {
            let consumer = try? await jetStream.consumerInfo(stream: GordonStream.name, name: "gordon-bot-\(Self.bot)-klines")
            if simulator.streamConnectionCount > 0, consumer != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(3))
        let idle = (bot: resident(bot.processIdentifier), executor: resident(executor.processIdentifier), risk: resident(risk.processIdentifier),
                    manager: resident(manager.processIdentifier))

        let monitor = try await Database.connect(database, logger: logger)
        defer { Task { try? await monitor.close() } }
        func handled() async throws -> Int {
            for try await (count,) in try await monitor.query(
                "SELECT count(*)::int FROM trading.processed_events WHERE consumer = 'gordon-bot-bench-klines'", logger: logger).decode((Int,).self) {
                return count
            }
            return 0
        }
        var hash: UInt32 = 2_166_136_261
        for byte in Self.bot.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let prefix = "b" + String(repeating: "0", count: 8 - String(hash, radix: 16).count) + String(hash, radix: 16) + "-"
        var latencies: [Double] = []
        /// Wall-clock close time (ms since the epoch) of each bar that produced an order, by intent id.
        var closedAt: [String: Double] = [:]
        let clock = ContinuousClock()
        let first = 20
        for step in 0..<klines {
            let openTime = series.openTime[first + step]
            let ids = ["b", "s"].map { prefix + String(openTime, radix: 36) + $0 }
            let sent = clock.now
            let sentWall = Date().timeIntervalSince1970 * 1000
            simulator.advance(steps: 1)
            var checked = clock.now
            while true {
                if let id = ids.first(where: { simulator.placements(of: $0) > 0 }) {
                    closedAt[id] = sentWall
                    let elapsed = clock.now - sent
                    latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    break
                }
                if clock.now - checked > .milliseconds(20) {
                    checked = clock.now
                    // Handled without an order (RSI at 100, or holding): next kline. A pending
                    // order of this bar would still be on its way: give it its time.
                    if try await handled() > step,
                       try await monitor.query("SELECT 1 FROM trading.order_intents WHERE intent_id = ANY(\(ids))", logger: logger).collect().isEmpty {
                        break
                    }
                    if clock.now - sent > .seconds(30) {
                        for log in ["bot", "executor", "data"] {
                            let text = (try? String(contentsOfFile: "\(directory)/\(log).err", encoding: .utf8)) ?? ""
                            print("--- \(log)\n" + text.split(separator: "\n").suffix(8).joined(separator: "\n"))
                        }
                        throw ValidationError("kline \(step): no order and not handled after 30 s")
                    }
                }
                try await Task.sleep(for: .microseconds(100))
            }
            // Pacing the load, not waiting on a condition: the next kline closes no sooner.
            let next = sent + .milliseconds(paceMilliseconds)
            if clock.now < next { try await Task.sleep(until: next, clock: clock) }
        }
        latencies.sort()
        func percentile(_ p: Double) -> String {
            String(format: "%.2f", latencies[min(latencies.count - 1, Int((Double(latencies.count) * p).rounded(.down)))])
        }
        print("tick → order (kline closed on the simulator → order accepted by it; data, NATS, bot, outbox relay, executor; fsync on):")
        print("  \(klines) klines, one per \(paceMilliseconds) ms or slower, \(latencies.count) orders: p50 \(percentile(0.5)) ms, p90 \(percentile(0.9)) ms, p99 \(percentile(0.99)) ms, max \(percentile(1)) ms")
        try await printStages(closedAt, on: monitor, logger: logger)
        func mib(_ kib: Int) -> String { String(format: "%.1f", Double(kib) / 1024) }
        for (name, value) in [("gordon-bot", idle.bot), ("gordon-executor", idle.executor), ("gordon-risk", idle.risk),
                              ("gordon-manager", idle.manager)] {
            guard let value else { continue }
            print("  \(name) idle RSS (native, ready, before the first kline): \(mib(value[0])) MiB = \(mib(value[1])) MiB anonymous + \(mib(value[2])) MiB file-backed")
        }
        if trips > 0 {
            risk.terminate()
            risk.waitUntilExit()
            _ = try start("gordon-risk", ["--database-url", url("gordon_risk"), "--keyfile", riskKey, "--max-drawdown", "0.05",
                                          "--max-daily-loss", "0.99", "--max-gross-exposure", "1000000", "--max-rejects-per-minute", "100000",
                                          "--max-orders-per-minute-per-bot", "100000"], log: "risk-trips")
            _ = try await listening("risk-trips")
            let tripped: [Double]
            do {
                tripped = try await tripToFlatten(rounds: trips, simulator: simulator, on: monitor, logger: logger)
            } catch {
                for log in ["risk-trips", "executor", "bot"] {
                    let text = (try? String(contentsOfFile: "\(directory)/\(log).err", encoding: .utf8)) ?? ""
                    print("--- \(log)\n" + text.split(separator: "\n").suffix(12).joined(separator: "\n"))
                }
                throw error
            }
            let sorted = tripped.sorted()
            func at(_ p: Double) -> String { String(format: "%.2f", sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.down)))]) }
            print("breaker trip → flatten (drawdown trip recorded by gordon-risk → the flatten's sell answered by the simulator, as the executor "
                  + "records it; risk's outbox relay, NATS, the executor's flatten):")
            print("  \(sorted.count) trips: p50 \(at(0.5)) ms, p90 \(at(0.9)) ms, p99 \(at(0.99)) ms, max \(at(1)) ms")
        }
        await nats.close()
    }

    /// Each round: the latch opened (an operator's request, as gordonctl files it), the bot
    /// trading until at least half the equity is in the coin, the bot paused (its own time-stop
    /// exit on the crash's kline would race the flatten), then a market crash to 85 % on the
    /// simulator: the drawdown breaker (5 %) trips. An allocation cut would not trip it (risk
    /// counts capital moved as no loss), and the bot reads its allocation only at its start,
    /// so the capital is not topped up: each round starts from what the last one left.
    func tripToFlatten(rounds: Int, simulator: BinanceSimulator, on monitor: PostgresConnection,
                       logger: Logger) async throws -> [Double] {
        /// The first column of the first row, as text (nil for none or NULL).
        func text(_ query: PostgresQuery) async throws -> String? {
            for try await (value,) in try await monitor.query(query, logger: logger).decode((String?,).self) { return value }
            return nil
        }
        func until(_ what: String, _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + .seconds(60)
            while try await !condition() {
                guard ContinuousClock.now < deadline else { throw ValidationError("trip bench: no \(what) within 60 s") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        /// An operator's request about the bot, as gordonctl files it; returns once risk carried it out.
        func ask(_ action: String) async throws {
            try await monitor.query("""
                INSERT INTO trading.operator_requests (action, target, reason, requested_by) VALUES (\(action), \(Self.bot), 'trip bench', 'bench')
                """, logger: logger)
            let wanted = action == "pause_bot" ? "paused" : "running"
            try await until(action) { try await text("SELECT desired_state FROM trading.bot_configs WHERE bot_id = \(Self.bot)") == wanted }
        }
        var latencies: [Double] = []
        var lastAdvance = ContinuousClock.now
        var lastBase = Double.infinity
        for round in 0..<rounds {
            try await monitor.query("""
                INSERT INTO trading.operator_requests (action, reason, requested_by) VALUES ('resume', 'trip bench round', 'bench')
                """, logger: logger)
            try await until("resume") { try await text("SELECT halted::text FROM trading.halt_latch") == "false" }
            func peak() async throws -> Double { (try await text("SELECT peak_equity::text FROM trading.risk_state")).flatMap(Double.init) ?? 0 }
            if round > 0 {
                // The resume counts afresh from the equity the crash left.
                try await until("re-based peak") { try await peak() < lastBase * 0.97 }
                try await ask("resume_bot")
            }
            let base = try await peak()
            lastBase = base
            try await until("position") {
                let held = try await text("""
                    SELECT ((SELECT coalesce(sum(quantity * average_entry_price), 0) FROM trading.positions WHERE bot_id = \(Self.bot)) > \(base / 2)
                            AND NOT EXISTS (SELECT 1 FROM trading.orders WHERE bot_id = \(Self.bot)
                                            AND status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL')))::text
                    """) == "true"
                // One kline per pace at most: the exchange's order rate limits hold here too.
                if !held, ContinuousClock.now - lastAdvance >= .milliseconds(paceMilliseconds) {
                    guard !simulator.advance(steps: 1).isEmpty else { throw ValidationError("trip bench: the market ran out of klines") }
                    lastAdvance = ContinuousClock.now
                }
                return held
            }
            let lastTrip = Int64(try await text("SELECT coalesce(max(id), 0)::text FROM trading.risk_events") ?? "0") ?? 0
            // Paused first (it reads its desired state at every kline), the bot holds through the crash.
            try await ask("pause_bot")
            try simulator.shock(by: ExactDecimal(significand: 85, scale: 2))
            guard !simulator.advance(steps: 1).isEmpty else { throw ValidationError("trip bench: the market ran out of klines") }
            lastAdvance = ContinuousClock.now
            var latency: Double?
            try await until("flatten of round \(round)") {
                latency = try await text("""
                    SELECT ((SELECT extract(epoch FROM min(e.recorded_at)) * 1000 FROM trading.order_events e
                             JOIN trading.order_intents i ON i.intent_id = e.client_order_id
                             WHERE i.reason LIKE 'flatten:%' AND e.status <> 'PENDING_NEW' AND e.recorded_at >= t.occurred_at)
                            - extract(epoch FROM t.occurred_at) * 1000)::float8::text
                    FROM trading.risk_events t
                    WHERE t.id > \(lastTrip) AND t.breaker = 'drawdown' AND t.state = 'tripped'
                    """).flatMap(Double.init)
                return latency != nil
            }
            latencies.append(latency!)
        }
        return latencies
    }

    /// Where the time goes, from the rows' own timestamps (PostgreSQL's `now()` is the start of
    /// the writing transaction): the median of each hop over the orders placed. The outbox's
    /// `sent_at` is no hop: the relay marks rows with its next step, not at the publish.
    func printStages(_ closedAt: [String: Double], on monitor: PostgresConnection, logger: Logger) async throws {
        var stages: [[Double]] = Array(repeating: [], count: 3)
        for try await (id, botStart, accepted, recorded) in try await monitor.query("""
            SELECT i.intent_id, (extract(epoch FROM ob.created_at) * 1000)::float8, (extract(epoch FROM o.created_at) * 1000)::float8,
                   (SELECT (extract(epoch FROM min(e.recorded_at)) * 1000)::float8 FROM trading.order_events e
                    WHERE e.client_order_id = o.client_order_id AND e.status <> 'PENDING_NEW')
            FROM trading.order_intents i JOIN trading.outbox ob ON ob.event_id = i.event_id
            JOIN trading.orders o ON o.client_order_id = i.intent_id
            WHERE i.intent_id = ANY(\(Array(closedAt.keys)))
            """, logger: logger).decode((String, Double, Double, Double?).self) {
            guard let closed = closedAt[id], let recorded else { continue }
            for (index, value) in [botStart - closed, accepted - botStart, recorded - accepted].enumerated() {
                stages[index].append(value)
            }
        }
        func median(_ values: [Double]) -> String {
            values.isEmpty ? "n/a" : String(format: "%.2f", values.sorted()[values.count / 2])
        }
        print("  medians per hop (ms): kline closed → the bot's transaction \(median(stages[0])), → the executor's intake "
              + "(bot commit, relay, NATS) \(median(stages[1])), → placed and recorded (checks, commit, placer, exchange) \(median(stages[2]))")
    }

    /// VmRSS, RssAnon and RssFile in KiB.
    func resident(_ pid: Int32) -> [Int]? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let values = ["VmRSS:", "RssAnon:", "RssFile:"].compactMap { key in
            status.split(separator: "\n").first { $0.hasPrefix(key) }.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") }
        }
        return values.count == 3 ? values : nil
    }
}
