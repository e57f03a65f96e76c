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

    @Test("a renewal slower than its period (a busy host, a locked row) keeps the lease: only a dead session gives it up")
    func slowRenewalKeepsTheLease() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["epsilon"])
            defer { Task { try? await admin.close() } }
            let held = try await lease(database, bot: "epsilon", instance: "first").acquire()
            let watching = Task { await held.watch() }
            let pid = try await held.backendPID()
            let locker = try await database.connect()
            defer { Task { try? await locker.close() } }
            // The renewals' UPDATE waits behind this row lock until its lock timeout (500 ms),
            // well past the renewal period (200 ms); a holder that gave up on a slow renewal
            // would close its session, and the wait would end sooner.
            try await locker.query("BEGIN", logger: testLogger)
            try await locker.query("SELECT 1 FROM trading.bot_leases WHERE bot_id = 'epsilon' FOR UPDATE", logger: testLogger)
            #expect(try await eventually {
                try await admin.query("""
                    SELECT count(*) FROM pg_locks WHERE pid = \(pid) AND NOT granted AND now() - waitstart > interval '300 milliseconds'
                    """, logger: testLogger).collect().first?.decode(Int.self) == 1
            })
            try await locker.query("COMMIT", logger: testLogger)
            let renewedBefore = try await renewedAt(admin, bot: "epsilon")
            #expect(try await eventually { try await renewedAt(admin, bot: "epsilon") != renewedBefore })
            #expect(held.isHeld)
            watching.cancel()
            #expect(await watching.value == .released)
        }
    }

    @Test("a lease lost to a renewal deadline says so: asking its session for its backend fails at once, never hangs")
    func lostLeaseAnswersAtOnce() async throws {
        try await withTestDatabase { database in
            let admin = try await adminWithBots(database, ["zeta"])
            defer { Task { try? await admin.close() } }
            var impatient = Self.quick
            impatient.renewTimeout = .nanoseconds(1)  // every renewal misses its deadline
            let held = try await BotLease(botId: "zeta", instanceId: "first", host: "test", configuration: impatient, logger: testLogger) {
                try await database.connect(asBot: "zeta")
            }.acquire()
            guard case .lost = await held.watch() else {
                Issue.record("a renewal past its deadline did not end the lease")
                return
            }
            // Sent to the connection the lease is closing, this query was never answered.
            let outcome: Result<Int32, any Error>
            do {
                outcome = .success(try await withDeadline(.seconds(10), timeoutError: { GordonError(.databaseTimeout, "backendPID hung") }) {
                    try await held.backendPID()
                })
            } catch {
                outcome = .failure(error)
            }
            guard case .failure(let error as GordonError) = outcome else {
                Issue.record("backendPID of a lost lease answered: \(outcome)")
                return
            }
            #expect(error.code == .botLeaseLost, "\(error)")
        }
    }

    func renewedAt(_ connection: PostgresConnection, bot: String) async throws -> String? {
        try await connection.query("SELECT renewed_at::text FROM trading.bot_leases WHERE bot_id = \(bot)", logger: testLogger)
            .collect().first?.decode(String.self)
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

