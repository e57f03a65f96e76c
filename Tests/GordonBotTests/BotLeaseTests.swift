import GordonBot
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import Logging
import PostgresNIO
import Testing

let testLogger: Logger = {
    var logger = Logger(label: "test.bot")
    logger.logLevel = .critical
    return logger
}()

/// A superuser connection to `database` with a configuration row for each bot (leases and
/// intents reference one).
func adminWithBots(_ database: TestDatabase, _ bots: [String]) async throws -> PostgresConnection {
    let admin = try await database.connect()
    for bot in bots {
        try await admin.query("INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval) VALUES (\(bot), 'sma_crossover', '{BTCUSDT}', '1m')",
                              logger: testLogger)
    }
    return admin
}

/// One active instance per bot, held by a PostgreSQL advisory lock: a standby waits, and takes
/// over within seconds of the holder's session ending.
@Suite("gordon-bot: the bot lease", .serialized)
struct BotLeaseTests {
    static var quick: BotLease.Configuration {
        var configuration = BotLease.Configuration()
        configuration.retry = .milliseconds(100)
        configuration.renewEvery = .milliseconds(200)
        return configuration
    }

    func lease(_ database: TestDatabase, bot: String, instance: String) -> BotLease {
        BotLease(botId: bot, instanceId: instance, host: "test", configuration: Self.quick, logger: testLogger) {
            try await database.connect(asBot: bot)
        }
    }

    func holder(_ database: TestDatabase, bot: String) async throws -> String? {
        let connection = try await database.connect()
        defer { Task { try? await connection.close() } }
        for try await instance in try await connection.query("SELECT instance_id FROM trading.bot_leases WHERE bot_id = \(bot)",
                                                             logger: testLogger).decode(String.self) {
            return instance
        }
        return nil
    }

    @Test("a second instance stands by while the first holds the lease, and takes over when the first's session is killed")
    func standbyTakesOver() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["alpha", "beta"])
            defer { Task { try? await admin.close() } }

            let first = try await lease(database, bot: "alpha", instance: "first").acquire()
            let watching = Task { await first.watch() }
            let standby = lease(database, bot: "alpha", instance: "second")
            let waiting = Task { try await standby.acquire() }
            // The standby asked and was refused, three times: it is waiting, not holding.
            #expect(try await eventually(timeout: .seconds(30)) { standby.refusals >= 3 })
            #expect(try await holder(database, bot: "alpha")?.hasPrefix("first#") == true)
            // Another bot's lease is its own.
            let other = try await lease(database, bot: "beta", instance: "third").acquire()
            #expect(other.isHeld)

            // The holder dies as kill -9 leaves it: its session ends without a word.
            let pid = try await first.backendPID()
            try await admin.query("SELECT pg_terminate_backend(\(pid))", logger: testLogger)
            let second = try await waiting.value
            #expect(second.isHeld)
            #expect(try await holder(database, bot: "alpha") == second.token && second.token.hasPrefix("second#"))
            // The old holder finds out by itself and stops.
            guard case .lost = await watching.value else {
                Issue.record("the killed holder did not see its lease lost")
                return
            }
            #expect(!first.isHeld)

            // Released on purpose: the next instance takes it at once.
            await second.release()
            let third = try await lease(database, bot: "alpha", instance: "fourth").acquire()
            #expect(try await holder(database, bot: "alpha") == third.token)
            // The same name twice is still two acquisitions: the fence tells them apart.
            await third.release()
            let again = try await lease(database, bot: "alpha", instance: "fourth").acquire()
            #expect(again.token != third.token && again.token.hasPrefix("fourth#"))
            await again.release()
            await other.release()
        }
    }

    @Test("a watcher cancelled without a release still lets the standby in")
    func cancelledWatcherFreesTheLock() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["delta"])
            defer { Task { try? await admin.close() } }
            let held = try await lease(database, bot: "delta", instance: "first").acquire()
            let watching = Task { await held.watch() }
            watching.cancel()
            #expect(await watching.value == .released && !held.isHeld)
            let next = try await lease(database, bot: "delta", instance: "second").acquire()
            #expect(next.isHeld)
            await next.release()
        }
    }

    @Test("a holder whose row names another instance stops acting")
    func rowTakenOver() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["gamma"])
            defer { Task { try? await admin.close() } }
            let held = try await lease(database, bot: "gamma", instance: "first").acquire()
            let watching = Task { await held.watch() }
            try await admin.query("UPDATE trading.bot_leases SET instance_id = 'intruder' WHERE bot_id = 'gamma'", logger: testLogger)
            #expect(await watching.value == .lost("the lease row names another instance"))
            #expect(!held.isHeld)
        }
    }
}
