import Foundation
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import GordonWatchdog
import GordonProcess
import PostgresNIO
import Testing

/// Real pg_dump, psql and restic against the test PostgreSQL and a repository on local disk.
@Suite("Backups of the trading schema: restic on loopback, restore gives the same rows")
struct BackupRestoreTests {
    static func tool(_ name: String) throws -> String {
        for dir in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw GordonError(.internalInvariant, "\(name) is not installed (scripts/test installs postgresql and restic)")
    }

    /// Seeds `trades` trades through psql, exactly as Benchmarks/backup does.
    static func seed(_ database: TestDatabase, orders: Int, trades: Int) async throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/seed-trades.sql").path
        let result = try await TestCommand.runProgram(try tool("psql"), connection(database) + [
            "--no-psqlrc", "--quiet", "--set", "ON_ERROR_STOP=1", "--set", "orders=\(orders)", "--set", "trades=\(trades)", "--file", fixture])
        #expect(result.status == 0, "\(result.stderr)")
    }

    static func connection(_ database: TestDatabase) -> [String] {
        guard case .tcp(let host, let port) = database.url.endpoint else { return [] }
        return ["--host=\(host)", "--port=\(port)", "--username=\(database.url.username)", "--dbname=\(database.name)"]
    }

    /// Row counts and a digest of every row of the tables a restore must bring back, plus a
    /// privilege the migrations granted (the dump must carry grants too).
    static func fingerprint(_ database: TestDatabase) async throws -> [String] {
        try await withConnection(try await database.connect()) { connection in
            var rows: [String] = []
            for table in ["bot_configs", "order_intents", "orders", "trades"] {
                let query: PostgresQuery = """
                    SELECT count(*)::text || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '-')
                    FROM trading.\(unescaped: table) t
                    """
                for try await row in try await connection.query(query, logger: TestEnvironment.logger).decode(String.self) {
                    rows.append("\(table) \(row)")
                }
            }
            let grant: PostgresQuery = "SELECT has_table_privilege('gordon_executor', 'trading.orders', 'INSERT')::text"
            for try await row in try await connection.query(grant, logger: TestEnvironment.logger).decode(String.self) {
                rows.append("executor may insert orders: \(row)")
            }
            return rows
        }
    }

    static func backupConfiguration(_ database: TestDatabase, scene: WatchdogScene) throws -> WatchdogConfiguration.BackupConfiguration {
        let passwordFile = scene.directory + "/restic.key"
        var generator = SystemRandomNumberGenerator()
        try (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined().write(toFile: passwordFile, atomically: true, encoding: .utf8)
        chmod(passwordFile, 0o600)
        let arguments = connection(database)
        return WatchdogConfiguration.BackupConfiguration(
            intervalSeconds: 3600, firstAfterSeconds: 0,
            pgDump: .init(name: "pg_dump", executable: try tool("pg_dump"), arguments: arguments),
            psql: .init(name: "psql", executable: try tool("psql"), arguments: arguments),
            restic: .init(name: "restic", executable: try tool("restic")),
            repository: scene.directory + "/repository", passwordFile: passwordFile, keepDaily: 7, keepWeekly: 4, keepMonthly: 6)
    }

    static func writeConfiguration(_ configuration: WatchdogConfiguration, scene: WatchdogScene) throws -> String {
        let path = scene.directory + "/watchdog.json"
        try JSONEncoder().encode(configuration).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func backupDropRestoreGivesTheSameRowsAndRetentionKeepsOnePerDay() async throws {
        try await withTestDatabase { database in
            let scene = try WatchdogScene()
            try await Self.seed(database, orders: 200, trades: 5000)
            let before = try await Self.fingerprint(database)
            #expect(before.contains { $0.hasPrefix("trades 5000 ") })
            let configuration = WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"),
                services: [scene.service("data")], backup: try Self.backupConfiguration(database, scene: scene))
            let path = try Self.writeConfiguration(configuration, scene: scene)

            let first = try await TestCommand.run("gordon-watchdog", ["backup", "--config", path])
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.hasPrefix("backup ok: snapshot "))
            let second = try await TestCommand.run("gordon-watchdog", ["backup", "--config", path])
            #expect(second.status == 0, "\(second.stderr)")
            let latest = try #require(second.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) })

            // keep-daily: two snapshots on one day leave the newer one.
            let listed = try await TestCommand.run("gordon-watchdog", ["snapshots", "--config", path])
            #expect(listed.status == 0)
            let snapshots = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]] ?? []
            #expect(snapshots.count == 1)
            // restic 0.14 reports the short id after a backup, later versions the full one.
            #expect((snapshots.first?["id"] as? String)?.hasPrefix(latest) == true)

            // The restic password never reaches the output.
            let password = try String(contentsOfFile: configuration.backup!.passwordFile, encoding: .utf8)
            #expect(!(first.stdout + first.stderr + second.stdout + second.stderr + listed.stderr).contains(password))

            try await withConnection(try await database.connect()) { connection in
                try await connection.query("DROP SCHEMA trading CASCADE", logger: TestEnvironment.logger)
            }
            let refused = try await TestCommand.run("gordon-watchdog", ["restore", "--config", path])
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("--replace-trading-schema"))
            let restored = try await TestCommand.run("gordon-watchdog", ["restore", "--config", path, "--replace-trading-schema"])
            #expect(restored.status == 0, "\(restored.stderr)")
            #expect(try await Self.fingerprint(database) == before)

            // A restore over the live schema replaces it (the dump drops what it recreates).
            try await withConnection(try await database.connect()) { connection in
                try await connection.query("DELETE FROM trading.trades WHERE trade_id % 2 = 0", logger: TestEnvironment.logger)
            }
            let again = try await TestCommand.run("gordon-watchdog", ["restore", "--config", path, "--snapshot", latest, "--replace-trading-schema"])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try await Self.fingerprint(database) == before)
        }
    }

    @Test func anOperatorsRequestStartsABackupAtOnceAndSaysWhoAsked() async throws {
        try await withTestDatabase { database in
            let scene = try WatchdogScene()
            try await Self.seed(database, orders: 3, trades: 10)
            var backup = try Self.backupConfiguration(database, scene: scene)
            backup.firstAfterSeconds = 86_400  // the schedule would not run one during the test
            backup.requestFile = scene.directory + "/backup-request"
            let watchdog = try scene.start(WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"),
                services: [scene.service("data")], backup: backup))
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.phase == "running" })
            #expect(scene.status?.backup?.lastResult == "never")
            try "operator:alice\n".write(toFile: backup.requestFile!, atomically: true, encoding: .utf8)
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.backup?.lastResult == "succeeded" })
            #expect(scene.status?.backup?.lastRequestedBy == "operator:alice")
            #expect(!FileManager.default.fileExists(atPath: backup.requestFile!))
            #expect(try await watchdog.stop()?.status == 0)
        }
    }

    static func latch(_ database: TestDatabase) async throws -> (halted: Bool, changedBy: String, audited: [String]) {
        try await withConnection(try await database.connect()) { connection in
            var latch = (halted: false, changedBy: "", audited: [String]())
            for try await (halted, changedBy) in try await connection.query(
                "SELECT halted, changed_by FROM trading.halt_latch", logger: TestEnvironment.logger).decode((Bool, String).self) {
                latch.halted = halted
                latch.changedBy = changedBy
            }
            for try await row in try await connection.query("""
                SELECT actor || ' ' || action || ' ' || coalesce(details->>'restore', '-') FROM trading.risk_audit_log ORDER BY id
                """, logger: TestEnvironment.logger).decode(String.self) {
                latch.audited.append(row)
            }
            return latch
        }
    }

    @Test func anOperatorsRestoreStopsTheServicesRestoresClosesTheLatchAndStartsThemAgain() async throws {
        try await withTestDatabase { database in
            let scene = try WatchdogScene()
            try await Self.seed(database, orders: 20, trades: 300)
            let before = try await Self.fingerprint(database)
            var backup = try Self.backupConfiguration(database, scene: scene)
            backup.firstAfterSeconds = 86_400
            backup.requestFile = scene.directory + "/request"
            let watchdog = try scene.start(WatchdogConfiguration(
                statusFile: scene.statusFile, restart: WatchdogScene.fastRestarts, migrate: .init(name: "migrate", executable: "/bin/true"),
                services: [scene.service("data"), scene.service("risk")], backup: backup))
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.phase == "running" && scene.events.count == 2 })
            try WatchdogRequest(requestedBy: "operator:alice", action: .backup).text.write(toFile: backup.requestFile!, atomically: true, encoding: .utf8)
            // The list after the backup holds its snapshot.
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.backup?.snapshots?.count == 1 })
            let snapshot = try #require(scene.status?.backup?.snapshots?.first?.id)
            #expect(snapshot.hasPrefix(try #require(scene.status?.backup?.lastSnapshotId)))

            // Trading went on after the snapshot: rows lost, the latch opened.
            try await withConnection(try await database.connect()) { connection in
                try await connection.query("DELETE FROM trading.trades WHERE trade_id % 3 = 0", logger: TestEnvironment.logger)
                try await connection.query("UPDATE trading.halt_latch SET halted = false, changed_by = 'operator:bob'", logger: TestEnvironment.logger)
            }
            #expect(try await Self.fingerprint(database) != before)

            // A snapshot the repository does not have: the restore fails, nothing changes, the services come back.
            try WatchdogRequest(requestedBy: "operator:alice", action: .restore(snapshot: "0badc0de")).text
                .write(toFile: backup.requestFile!, atomically: true, encoding: .utf8)
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.restore?.result == "failed" && scene.status?.phase == "running" })
            #expect(try await eventually(timeout: .seconds(30)) { scene.events.count == 6 })
            #expect(try await Self.latch(database).halted == false)

            try WatchdogRequest(requestedBy: "operator:alice", action: .restore(snapshot: String(snapshot.prefix(8)))).text
                .write(toFile: backup.requestFile!, atomically: true, encoding: .utf8)
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.restore?.result == "succeeded" && scene.status?.phase == "running" })
            #expect(try await eventually(timeout: .seconds(30)) { scene.events.count == 10 })
            // Stopped in reverse order, each waited for, before the schema was replaced; started again after
            // (each started process writes its line when it runs, so those two may land in either order).
            #expect(Array(scene.events.suffix(4).prefix(2)) == ["stop risk", "stop data"])
            #expect(Set(scene.events.suffix(2)) == ["start data \(getuid())", "start risk \(getuid())"])
            #expect(scene.status?.migrateAttempts == 3)
            #expect(scene.status?.restore?.requestedBy == "operator:alice")
            #expect(try await Self.fingerprint(database) == before)
            let latch = try await Self.latch(database)
            #expect(latch.halted && latch.changedBy == "operator:alice")
            #expect(latch.audited.last == "operator:alice halt \(snapshot.prefix(8))")
            #expect(try await watchdog.stop()?.status == 0)
        }
    }

    @Test func theRunningWatchdogBacksUpOnScheduleAndRecordsTheResult() async throws {
        try await withTestDatabase { database in
            let scene = try WatchdogScene()
            try await Self.seed(database, orders: 10, trades: 100)
            var backup = try Self.backupConfiguration(database, scene: scene)
            let configuration = WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"),
                services: [scene.service("data")], backup: backup)
            let watchdog = try scene.start(configuration)
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.backup?.lastResult == "succeeded" })
            let status = try #require(scene.status?.backup)
            #expect((status.lastSnapshotId?.count ?? 0) >= 8)
            #expect(status.lastSuccessAt != nil && status.failedStep == nil)
            #expect((status.nextInSeconds ?? 0) > 3000)
            #expect(try await watchdog.stop()?.status == 0)

            // A repository that cannot be opened is a recorded failure, not a crash.
            backup.repository = scene.directory + "/missing/repository"
            backup.initializeRepository = false
            let failing = try scene.start(WatchdogConfiguration(
                statusFile: scene.statusFile, migrate: .init(name: "migrate", executable: "/bin/true"),
                services: [scene.service("data")], backup: backup))
            #expect(try await eventually(timeout: .seconds(60)) { scene.status?.backup?.lastResult == "failed" })
            #expect(scene.status?.backup?.failedStep == "check_repository")
            #expect(scene.status?.phase == "running")
            #expect(try await failing.stop()?.status == 0)
        }
    }
}
