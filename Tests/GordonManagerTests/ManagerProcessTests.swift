#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AsyncHTTPClient
import Foundation
import GordonBus
import GordonKernel
import GordonManager
import GordonMigrations
import GordonNATS
import GordonPostgres
import GordonTestDB
import Logging
import NIOCore
import PostgresNIO
import Testing

let testLogger: Logger = {
    var logger = Logger(label: "test.manager")
    logger.logLevel = .critical
    return logger
}()

/// gordon-manager, gordon-risk and gordonctl as processes over a real PostgreSQL and
/// nats-server: operators act through the manager's socket, risk carries the requests out.
@Suite("gordon-manager and gordonctl: operating through the socket", .serialized)
struct ManagerProcessTests {
    /// The operators' group of the test's own account files.
    static let operatorsGid: UInt32 = 4242
    static let outsiderUid: UInt32 = 65534

    final class World: @unchecked Sendable {
        let database: TestDatabase
        let directory: String
        let socket: String
        let natsURL: String
        var risk: TestCommand?
        var manager: TestCommand?
        /// A copy of gordonctl where every user may run it (the build tree may be private).
        let gordonctl: String

        init(database: TestDatabase, directory: String, natsURL: String) throws {
            self.database = database
            self.directory = directory
            self.natsURL = natsURL
            socket = directory + "/manager.sock"
            gordonctl = directory + "/gordonctl"
            try FileManager.default.copyItem(atPath: TestEnvironment.builtExecutable("gordonctl"), toPath: gordonctl)
            chmod(gordonctl, 0o755)
            // alice is an operator by the group's member list; nobody is not, even when the
            // kernel lets it open the socket.
            try "root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\nnobody:x:\(outsiderUid):\(outsiderUid)::/:/bin/false\n"
                .write(toFile: directory + "/passwd", atomically: true, encoding: .utf8)
            try "root:x:0:\nops:x:\(operatorsGid):alice\nnogroup:x:\(outsiderUid):\n"
                .write(toFile: directory + "/group", atomically: true, encoding: .utf8)
        }

        /// The console's credential; the manager's keyfile holds its SHA-256.
        static let consoleToken = "console-token-\(UInt64.random(in: 0...UInt64.max))"

        func keyfile(_ name: String, _ role: DatabaseRole, extra: String = "") async throws -> (keyfile: String, url: String) {
            let url = try await database.url(as: role)
            let path = "\(directory)/\(name).key"
            try url.password!.withPlainText { "postgres_password = \($0)\n" + extra }.write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o400)
            return (path, url.with(username: url.username, password: nil).description)
        }

        func startRisk() async throws {
            let key = try await keyfile("gordon-risk", .risk)
            risk = try await start("gordon-risk", ["--database-url", key.url, "--keyfile", key.keyfile, "--nats-url", natsURL, "--http-port", "0"],
                                   ready: " listening on ")
        }

        func startManager(requestTimeout: Int = 10, console: Bool = false, liveQueue: Int = 256, extra: [String] = []) async throws {
            let key = try await keyfile("gordon-manager", .manager,
                                        extra: "console_token_sha256 = \(ConsoleCredential.hexDigest(of: Self.consoleToken))\n")
            manager = try await start("gordon-manager", [
                "--database-url", key.url, "--keyfile", key.keyfile, "--nats-url", natsURL, "--http-port", "0",
                "--socket", socket, "--operators-group", "ops", "--passwd-file", directory + "/passwd", "--group-file", directory + "/group",
                "--request-timeout-seconds", "\(requestTimeout)", "--live-queue", "\(liveQueue)",
            ] + (console ? ["--console-port", "0"] : []) + extra, ready: console ? "gordon-manager console API on " : "gordon-manager API on unix:")
            if console {
                // Both listeners announce themselves; wait for the socket's line too.
                _ = try await eventually(timeout: .seconds(30)) { self.manager!.stdout.contains("gordon-manager API on unix:") }
            }
        }

        /// The port a started service announced after `marker` (`… on http://127.0.0.1:PORT`),
        /// waited for: a service announces its listeners in no fixed order.
        func announcedPort(_ command: TestCommand, after marker: String) async throws -> Int {
            func port() -> Int? {
                command.stdout.split(separator: "\n").first(where: { $0.contains(marker) })
                    .flatMap { $0.split(separator: ":").last }.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
            guard try await eventually(timeout: .seconds(30), { port() != nil }), let port = port() else {
                throw TestNATSServerError(message: "no port after '\(marker)' in: \(command.stdout)")
            }
            return port
        }

        func start(_ program: String, _ arguments: [String], ready marker: String) async throws -> TestCommand {
            let command = try TestCommand(program, arguments)
            let started = try await eventually(timeout: .seconds(60)) { command.stdout.contains(marker) || !command.process.isRunning }
            guard started, command.process.isRunning else {
                throw TestNATSServerError(message: "\(program) did not start: \(command.stderr.suffix(2000))")
            }
            return command
        }

        /// gordonctl as root (this process), with the test's socket.
        func ctl(_ arguments: [String]) async throws -> CommandResult {
            try await TestCommand.runProgram(gordonctl, arguments + ["--socket", socket])
        }

        /// gordonctl as another user, by setpriv.
        func ctl(as uid: UInt32, groups: [UInt32], _ arguments: [String]) async throws -> CommandResult {
            try await TestCommand.runProgram("/usr/bin/setpriv", [
                "--reuid=\(uid)", "--regid=\(uid)", groups.isEmpty ? "--clear-groups" : "--groups=\(groups.map(String.init).joined(separator: ","))",
                gordonctl,
            ] + arguments + ["--socket", socket])
        }

        func stop() async {
            for command in [manager, risk].compactMap({ $0 }) { _ = try? await command.stop() }
        }
    }

    func withWorld(_ body: (World, PostgresConnection) async throws -> Void) async throws {
        let natsServer = try await TestNATSServer()
        let nats = try await NATSClient.connect(try NATSClientOptions(urls: [natsServer.url], name: "manager-test"), logger: testLogger)
        try await GordonStream.ensure(JetStream(client: nats))
        defer { Task { await nats.close(); await natsServer.stop() } }
        try await withTestDatabase { database in
            let directory = "/tmp/gordon-manager-test-\(UInt64.random(in: 0...UInt64.max))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            chmod(directory, 0o755)  // the outsider must reach the socket to be refused by it
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let world = try World(database: database, directory: directory, natsURL: natsServer.url)
            let admin = try await database.connect()
            do {
                try await admin.query("""
                    INSERT INTO trading.bot_configs (bot_id, strategy, symbols, interval, desired_state)
                    VALUES ('alpha', 'sma_crossover', '{BTCUSDT}', '1m', 'running'), ('beta', 'sma_crossover', '{BTCUSDT}', '1m', 'stopped')
                    """, logger: testLogger)
                try await body(world, admin)
            } catch {
                await world.stop()
                try? await admin.close()
                throw error
            }
            await world.stop()
            try? await admin.close()
        }
    }

    static func halted(_ admin: PostgresConnection) async throws -> Bool {
        try await admin.query("SELECT halted FROM trading.halt_latch", logger: testLogger).collect().first!.decode(Bool.self)
    }

    static func lastAudit(_ admin: PostgresConnection) async throws -> (String, String, String, String)? {
        try await admin.query("SELECT actor, action, target, reason FROM trading.risk_audit_log ORDER BY id DESC LIMIT 1", logger: testLogger)
            .collect().first?.decode((String, String, String, String).self)
    }

    @Test("gordonctl resume opens the latch, audited with the caller; halt closes it; status shows it; bad input changes nothing")
    func haltAndResume() async throws {
        try await withWorld { world, admin in
            try await world.startRisk()
            try await world.startManager()
            #expect(try await Self.halted(admin))  // a fresh install starts halted

            let resumed = try await world.ctl(["resume", "--reason", "checked the books"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stdout.contains("resumed"))
            #expect(try await !Self.halted(admin))
            let audit = try await Self.lastAudit(admin)
            #expect(audit?.0 == "operator:root" && audit?.1 == "resume" && audit?.3 == "checked the books")
            let latch = try await admin.query("SELECT changed_by FROM trading.halt_latch", logger: testLogger).collect().first?.decode(String.self)
            #expect(latch == "operator:root")

            let halted = try await world.ctl(["halt", "--reason", "maintenance", "--json"])
            #expect(halted.status == 0, "\(halted.stderr)")
            #expect(halted.stdout.contains("\"outcome\":\"halted\""))
            #expect(try await Self.halted(admin))
            let commands = try await admin.query("""
                SELECT count(*) FROM trading.outbox WHERE subject = 'gordon.risk.command.all'
                """, logger: testLogger).collect().first!.decode(Int.self)
            #expect(commands == 2)  // resume, halt: the executor hears both

            let status = try await world.ctl(["status", "--json"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("\"halted\":true") && status.stdout.contains("\"bot_id\":\"alpha\""))
            let screen = try await world.ctl(["status"])
            #expect(screen.status == 0 && screen.stdout.contains("HALTED") && screen.stdout.contains("alpha"), "\(screen.stdout)\(screen.stderr)")

            // Bad input: a clear line, exit 2, nothing filed.
            let requests = try await admin.query("SELECT count(*) FROM trading.operator_requests", logger: testLogger).collect().first!.decode(Int.self)
            let noReason = try await world.ctl(["resume"])
            #expect(noReason.status == 2 && noReason.stderr.contains("--reason"), "\(noReason.stderr)")
            let unconfirmed = try await world.ctl(["flatten", "--reason", "x"])
            #expect(unconfirmed.status == 2 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
            // The API refuses a body without a reason with a 400 and its code.
            let (code, body) = try await Self.post(world.socket, "/api/v1/resume", body: "{}")
            #expect(code == 400 && body.contains("GORDON-MGR-0001"), "\(body)")
            let (missing, _) = try await Self.post(world.socket, "/api/v1/nothing", body: "{}")
            #expect(missing == 404)
            let after = try await admin.query("SELECT count(*) FROM trading.operator_requests", logger: testLogger).collect().first!.decode(Int.self)
            #expect(after == requests)
            #expect(try await Self.halted(admin))
        }
    }

    @Test("bots pause and resume through risk, audited; a bot in the wrong state or unknown is refused with exit 1")
    func pauseAndResumeBot() async throws {
        try await withWorld { world, admin in
            try await world.startRisk()
            try await world.startManager()
            let paused = try await world.ctl(["bots", "pause", "alpha", "--reason", "too many orders"])
            #expect(paused.status == 0, "\(paused.stderr)")
            let state = try await admin.query("SELECT desired_state FROM trading.bot_configs WHERE bot_id = 'alpha'", logger: testLogger)
                .collect().first?.decode(String.self)
            #expect(state == "paused")
            let audit = try await Self.lastAudit(admin)
            #expect(audit?.0 == "operator:root" && audit?.1 == "pause_bot" && audit?.2 == "alpha")

            let again = try await world.ctl(["bots", "pause", "alpha", "--reason", "twice"])
            #expect(again.status == 1 && again.stderr.contains("GORDON-MGR-0005") && again.stderr.contains("paused, not running"), "\(again.stderr)")
            let unknown = try await world.ctl(["bots", "resume", "nosuch", "--reason", "x"])
            #expect(unknown.status == 1 && unknown.stderr.contains("there is no bot nosuch"), "\(unknown.stderr)")
            let badId = try await world.ctl(["bots", "pause", "Bad/Id", "--reason", "x"])
            #expect(badId.status == 2)

            let resumed = try await world.ctl(["bots", "resume", "alpha", "--reason", "rate is back to normal"])
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let list = try await world.ctl(["bots", "list"])
            #expect(list.status == 0 && list.stdout.contains("alpha") && list.stdout.contains("running"), "\(list.stdout)")
        }
    }

    @Test("bots create checks the plan as the bot will, creates it stopped, refuses a taken id; start and stop are the manager's own")
    func createStartStop() async throws {
        try await withWorld { world, admin in
            try await world.startManager()
            let create = ["bots", "create", "gamma", "--strategy", "sma_crossover", "--param", "fast=5", "--param", "slow=20",
                          "--overlay", "stop_loss:percent=0.02", "--symbol", "ETHUSDT", "--interval", "1h", "--allocation", "250.5"]
            let created = try await world.ctl(create)
            #expect(created.status == 0 && created.stdout.contains("gamma") && created.stdout.contains("stopped"), "\(created.stdout)\(created.stderr)")
            let row = try await admin.query("""
                SELECT strategy, parameters::text, overlays::text, sizing->>'name', symbols, max_quote_exposure::text, desired_state
                FROM trading.bot_configs WHERE bot_id = 'gamma'
                """, logger: testLogger).collect().first?.decode((String, String, String, String, [String], String, String).self)
            #expect(row?.0 == "sma_crossover" && row?.1.contains("\"fast\": 5") == true && row?.1.contains("\"slow\": 20") == true,
                    "\(String(describing: row))")
            #expect(row?.2.contains("stop_loss") == true && row?.3 == "fixed_fraction" && row?.4 == ["ETHUSDT"] && row?.5 == "250.5" && row?.6 == "stopped")

            let taken = try await world.ctl(create)
            #expect(taken.status == 1 && taken.stderr.contains("GORDON-MGR-0006"), "\(taken.stderr)")
            for (what, arguments) in [
                ("an unknown strategy", ["--strategy", "moonshot", "--symbol", "BTCUSDT", "--interval", "1h", "--allocation", "100"]),
                ("a parameter out of range", ["--strategy", "sma_crossover", "--param", "fast=0", "--symbol", "BTCUSDT", "--interval", "1h", "--allocation", "100"]),
                ("a bad interval", ["--strategy", "sma_crossover", "--symbol", "BTCUSDT", "--interval", "7m", "--allocation", "100"]),
                ("no allocation", ["--strategy", "sma_crossover", "--symbol", "BTCUSDT", "--interval", "1h", "--allocation", "0"]),
            ] {
                let refused = try await world.ctl(["bots", "create", "delta"] + arguments)
                #expect(refused.status == 1 && refused.stderr.contains("GORDON-DOM-0008"), "\(what): \(refused.stderr)")
            }
            let delta = try await admin.query("SELECT count(*) FROM trading.bot_configs WHERE bot_id = 'delta'", logger: testLogger)
                .collect().first!.decode(Int.self)
            #expect(delta == 0)

            let started = try await world.ctl(["bots", "start", "gamma", "--reason", "deployed"])
            #expect(started.status == 0 && started.stdout.contains("gamma running"), "\(started.stderr)")
            let again = try await world.ctl(["bots", "start", "gamma", "--reason", "twice"])
            #expect(again.status == 1 && again.stderr.contains("running, not stopped"), "\(again.stderr)")
            let stopped = try await world.ctl(["bots", "stop", "gamma", "--reason", "retired"])
            #expect(stopped.status == 0, "\(stopped.stderr)")
            let state = try await admin.query("SELECT desired_state FROM trading.bot_configs WHERE bot_id = 'gamma'", logger: testLogger)
                .collect().first?.decode(String.self)
            #expect(state == "stopped")
            let unknown = try await world.ctl(["bots", "stop", "nosuch", "--reason", "x"])
            #expect(unknown.status == 1 && unknown.stderr.contains("GORDON-MGR-0003"), "\(unknown.stderr)")
        }
    }

    @Test("gordonctl backup now leaves the watchdog a request naming the operator; without one configured it is refused")
    func backupRequest() async throws {
        try await withWorld { world, _ in
            let requestFile = world.directory + "/backup-request"
            try await world.startManager(extra: ["--backup-request", requestFile])
            let asked = try await world.ctl(["backup", "now"])
            #expect(asked.status == 0 && asked.stdout.contains("requested"), "\(asked.stdout)\(asked.stderr)")
            #expect((try? String(contentsOfFile: requestFile, encoding: .utf8)) == "operator:root\nbackup\n")
            // The watchdog has not taken it yet: a second request waits its turn rather than replacing it.
            let second = try await world.ctl(["backup", "now"])
            #expect(second.status == 1 && second.stderr.contains("still waiting"), "\(second.stderr)")
            #expect((try? String(contentsOfFile: requestFile, encoding: .utf8)) == "operator:root\nbackup\n")
            _ = try await world.manager?.stop()
            try FileManager.default.removeItem(atPath: requestFile)
            try await world.startManager()
            let refused = try await world.ctl(["backup", "now"])
            #expect(refused.status == 1 && refused.stderr.contains("not configured"), "\(refused.stderr)")
            #expect(!FileManager.default.fileExists(atPath: requestFile))
        }
    }

    @Test("gordonctl backup list shows the watchdog's snapshots; backup restore asks for a listed one by a unique prefix, and nothing else")
    func restoreRequest() async throws {
        try await withWorld { world, _ in
            let requestFile = world.directory + "/backup-request"
            let statusFile = world.directory + "/watchdog-status"
            try """
                {"updatedAt": "2026-12-07T02:00:05Z", "watchdogPid": 1, "phase": "running", "reason": "", "migrateAttempts": 1, "services": [],
                 "backup": {"lastResult": "succeeded", "repository": "sftp:gordon@srv-core:/srv/restic/gordon",
                   "snapshotsListedAt": "2026-12-07T02:00:05Z", "snapshots": [
                   {"id": "4f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c", "time": "2026-12-07T02:00:01+00:00"},
                   {"id": "4f1c2a9b00000000000000000000000a", "time": "2026-12-06T02:00:01+00:00"},
                   {"id": "0123456789abcdef0123456789abcdef", "time": "2026-12-05T02:00:01+00:00"}]}}
                """.write(toFile: statusFile, atomically: true, encoding: .utf8)
            try await world.startManager(extra: ["--backup-request", requestFile, "--watchdog-status", statusFile])

            // The status screen dates the last backup by the newest snapshot (this watchdog has
            // not run one yet) and says where the backups go.
            let screen = try await world.ctl(["status"])
            let line = screen.stdout.split(separator: "\n").first { $0.hasPrefix("Backup:") }.map(String.init) ?? ""
            #expect(line.contains("last succeeded; last success ") && line.contains(" ago (snapshot -) to sftp:gordon@srv-core:/srv/restic/gordon"),
                    "\(screen.stdout)\(screen.stderr)")

            let listed = try await world.ctl(["backup", "list"])
            #expect(listed.status == 0, "\(listed.stderr)")
            let rows = listed.stdout.split(separator: "\n")
            #expect(rows.count == 5 && rows[1].hasPrefix("4f1c2a9b8d7e") && rows[3].hasPrefix("0123456789ab"), "\(listed.stdout)")

            for (snapshot, error) in [("4f1c2a9b", "names 2 snapshots"), ("deadbeef", "no snapshot deadbeef")] {
                let refused = try await world.ctl(["backup", "restore", snapshot, "--yes"])
                #expect(refused.status == 1 && refused.stderr.contains(error), "\(refused.stderr)")
            }
            let unconfirmed = try await world.ctl(["backup", "restore", "01234567"])
            #expect(unconfirmed.status == 2 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
            let malformed = try await world.ctl(["backup", "restore", "../../etc", "--yes"])
            #expect(malformed.status == 2 && malformed.stderr.contains("is not a snapshot"), "\(malformed.stderr)")
            #expect(!FileManager.default.fileExists(atPath: requestFile))

            let asked = try await world.ctl(["backup", "restore", "01234567", "--yes"])
            #expect(asked.status == 0 && asked.stdout.contains("stops every service"), "\(asked.stdout)\(asked.stderr)")
            #expect((try? String(contentsOfFile: requestFile, encoding: .utf8)) == "operator:root\nrestore 01234567\n")
        }
    }

    @Test("gordonctl data import uploads a kline file checked whole: kept under its SHA-256 for gordon-data and filed; a bad file leaves nothing")
    func importFiled() async throws {
        try await withWorld { world, admin in
            let imports = world.directory + "/imports"
            try FileManager.default.createDirectory(atPath: imports, withIntermediateDirectories: true)
            try await world.startManager(extra: ["--import-directory", imports])
            let first: Int64 = 1_704_067_200_000
            func rows(_ minutes: [Int64]) -> String {
                minutes.map { minute in
                    let open = first + minute * 60_000
                    return "\(open),42283.58000000,42283.65000000,42283.55000000,42283.59000000,35.92724000,\(open + 59_999),"
                        + "1519032.66047030,1000,23.31640000,985748.71718540,0\n"
                }.joined()
            }
            let good = world.directory + "/BTCUSDT-1m-2024-01-01.csv"
            try rows(Array(0..<90)).write(toFile: good, atomically: true, encoding: .utf8)
            let bad = world.directory + "/BTCUSDT-1m-2024-01-02.csv"
            try rows([0, 2, 1]).write(toFile: bad, atomically: true, encoding: .utf8)

            let refused = try await world.ctl(["data", "import", "--symbol", "BTCUSDT", "--interval", "1m", bad, "--detach"])
            #expect(refused.status == 1 && refused.stderr.contains("BTCUSDT-1m-2024-01-02.csv") && refused.stderr.contains("line"),
                    "\(refused.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: imports).isEmpty)

            let filed = try await world.ctl(["data", "import", "--symbol", "BTCUSDT", "--interval", "1m", good, "--detach"])
            #expect(filed.status == 0 && filed.stdout.contains("filed import of BTCUSDT-1m-2024-01-01.csv"), "\(filed.stdout)\(filed.stderr)")
            let kept = try FileManager.default.contentsOfDirectory(atPath: imports)
            #expect(kept.count == 1 && kept.first?.count == 68 && kept.first?.hasSuffix(".csv") == true, "\(kept)")
            #expect(FileManager.default.contentsEqual(atPath: imports + "/" + (kept.first ?? ""), andPath: good))
            let row = try await admin.query("""
                SELECT (extract(epoch FROM from_time) * 1000)::bigint, (extract(epoch FROM to_time) * 1000)::bigint, file_name, requested_by
                FROM market_data.backfill_requests
                """, logger: testLogger).collect().map { try $0.decode((Int64, Int64, String, String).self) }
            #expect(row.count == 1 && row.first?.0 == first && row.first?.1 == first + 89 * 60_000 && row.first?.2 == kept.first
                    && row.first?.3 == "operator:root", "\(row)")

            let twice = try await world.ctl(["data", "import", "--symbol", "BTCUSDT", "--interval", "1m", good, "--detach"])
            #expect(twice.status == 1 && twice.stderr.contains("already filed"), "\(twice.stderr)")
            let wrongName = try await world.ctl(["data", "import", "--symbol", "BTCUSDT", "--interval", "1m", world.directory + "/notes.txt"])
            #expect(wrongName.status == 2 && wrongName.stderr.contains("neither a .zip nor a .csv"), "\(wrongName.stderr)")
            let count = try await admin.query("SELECT count(*) FROM market_data.backfill_requests", logger: testLogger).collect()
                .first?.decode(Int64.self)
            #expect(count == 1)
        }
    }

    @Test("gordonctl data backfill files a backfill for gordon-data naming the operator; a bad series or range files nothing")
    func backfillFiled() async throws {
        try await withWorld { world, admin in
            try await world.startManager()
            let filed = try await world.ctl(["data", "backfill", "--symbol", "BTCUSDT", "--interval", "1h", "--from", "2024-01-01",
                                             "--to", "2024-02-01", "--detach"])
            #expect(filed.status == 0 && filed.stdout.contains("filed backfill"), "\(filed.stdout)\(filed.stderr)")
            let row = try await admin.query("""
                SELECT symbol, interval, (extract(epoch FROM from_time) * 1000)::bigint, status, requested_by FROM market_data.backfill_requests
                """, logger: testLogger).collect().first?.decode((String, String, Int64, String, String).self)
            #expect(row?.0 == "BTCUSDT" && row?.1 == "1h" && row?.2 == 1_704_067_200_000 && row?.3 == "queued" && row?.4 == "operator:root",
                    "\(String(describing: row))")
            let listed = try await world.ctl(["data", "backfills"])
            #expect(listed.status == 0 && listed.stdout.contains("queued"), "\(listed.stdout)")
            for (arguments, complaint) in [
                (["--symbol", "btc", "--interval", "1h", "--from", "2024-01-01"], "GORDON-DOM"),
                (["--symbol", "BTCUSDT", "--interval", "7m", "--from", "2024-01-01"], "GORDON-DOM"),
                (["--symbol", "BTCUSDT", "--interval", "1h", "--from", "2024-02-01", "--to", "2024-01-01"], "from not after to"),
            ] {
                let refused = try await world.ctl(["data", "backfill"] + arguments)
                #expect(refused.status == 1 && refused.stderr.contains(complaint), "\(arguments): \(refused.stderr)")
            }
            let count = try await admin.query("SELECT count(*) FROM market_data.backfill_requests", logger: testLogger).collect().first!.decode(Int.self)
            #expect(count == 1)
        }
    }

    @Test("with risk down a request is filed and reported pending (exit 4); risk carries it out when it comes back")
    func pendingUntilRiskRuns() async throws {
        try await withWorld { world, admin in
            try await world.startManager(requestTimeout: 1)
            let pending = try await world.ctl(["resume", "--reason", "after the upgrade"])
            #expect(pending.status == 4 && pending.stderr.contains("GORDON-MGR-0004"), "\(pending.stderr)")
            #expect(try await Self.halted(admin))
            try await world.startRisk()
            #expect(try await eventually { try await !Self.halted(admin) })
            let handled = try await admin.query("SELECT outcome FROM trading.operator_requests", logger: testLogger).collect().first?.decode(String?.self)
            #expect(handled == "resumed: the bots may trade")
        }
    }

    @Test("only root and the operators' group get in: the kernel refuses others at the socket, the manager refuses a non-member who can open it",
          .enabled(if: getuid() == 0, "switching users needs root"))
    func outsidersAreRefused() async throws {
        try await withWorld { world, admin in
            try await world.startManager()
            var status = stat()
            #expect(stat(world.socket, &status) == 0 && status.st_mode & 0o777 == 0o660 && status.st_gid == Self.operatorsGid)

            // Not in the socket's group: the kernel says no before the manager hears a word.
            let outsider = try await world.ctl(as: Self.outsiderUid, groups: [], ["resume", "--reason", "let me in"])
            #expect(outsider.status == 3 && outsider.stderr.contains("gordon-ops"), "\(outsider.stderr)")
            // In the socket's group by a supplementary group the account files do not give it:
            // the connection opens, the peer credentials say who it is, and the manager refuses.
            let sneaking = try await world.ctl(as: Self.outsiderUid, groups: [Self.operatorsGid], ["resume", "--reason", "let me in"])
            #expect(sneaking.status == 1 && sneaking.stderr.contains("GORDON-MGR-0002"), "\(sneaking.stderr)")
            let reading = try await world.ctl(as: Self.outsiderUid, groups: [Self.operatorsGid], ["orders"])
            #expect(reading.status == 1 && reading.stderr.contains("GORDON-MGR-0002"), "\(reading.stderr)")
            let filed = try await admin.query("SELECT count(*) FROM trading.operator_requests", logger: testLogger).collect().first!.decode(Int.self)
            #expect(filed == 0)
            // The manager not running: one clear line, exit 3.
            _ = try await world.manager?.stop()
            world.manager = nil
            let down = try await world.ctl(["status"])
            #expect(down.status == 3 && down.stderr.contains("not running"), "\(down.stderr)")
        }
    }

    static func get(_ socket: String, _ path: String) async throws -> (Int, String) {
        let encoded = socket.replacingOccurrences(of: "/", with: "%2F")
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http+unix://\(encoded)\(path)"), timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    static func post(_ socket: String, _ path: String, body: String) async throws -> (Int, String) {
        let encoded = socket.replacingOccurrences(of: "/", with: "%2F")
        var request = HTTPClientRequest(url: "http+unix://\(encoded)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }
}
