import Foundation
import GordonKernel
import GordonMigrations
import GordonPostgres
import GordonTestDB
import GordonWatchdog
import GordonProcess
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory with shell-script services that record what happens to them.
final class WatchdogScene: @unchecked Sendable {
    let directory: String
    var statusFile: String { directory + "/run/status" }
    var eventsFile: String { directory + "/events" }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("gordon-watchdog-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        // A service: says it started (with its uid), and on SIGTERM that it stopped. The trap
        // comes first: once "start" is written, a SIGTERM is always recorded.
        try script("service", """
            #!/bin/sh
            trap 'echo "stop $1" >> "$2/events"; exit 0' TERM
            echo "start $1 $(id -u)" >> "$2/events"
            sleep 1000 &
            wait $!
            """)
        try script("crasher", """
            #!/bin/sh
            echo "crash $1" >> "$2/events"
            exit 3
            """)
    }

    @discardableResult
    func script(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    func service(_ name: String, script: String = "service", user: String? = nil) -> WatchdogConfiguration.Command {
        .init(name: name, executable: directory + "/" + script, arguments: [name, directory], user: user)
    }

    var events: [String] {
        ((try? String(contentsOfFile: eventsFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    var status: WatchdogStatus? { try? WatchdogStatus.read(from: statusFile) }

    func start(_ configuration: WatchdogConfiguration) throws -> TestCommand {
        try write(configuration)
        return try TestCommand("gordon-watchdog", ["run", "--config", directory + "/watchdog.json"])
    }

    /// The configuration file the watchdog reads (again, on SIGHUP).
    func write(_ configuration: WatchdogConfiguration) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .prettyPrinted
        try encoder.encode(configuration).write(to: URL(fileURLWithPath: directory + "/watchdog.json"))
    }

    static let fastRestarts = WatchdogConfiguration.RestartPolicy(
        initialBackoffSeconds: 0.05, maximumBackoffSeconds: 0.2, crashLoopLimit: 3, crashLoopWindowSeconds: 60, healthyAfterSeconds: 30)

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("gordon-watchdog as a process: real migrator, real children, real signals")
struct WatchdogProcessTests {
    static func migrate(_ url: DatabaseURL) -> WatchdogConfiguration.Command {
        .init(name: "gordon-migrate", executable: TestEnvironment.builtExecutable("gordon-migrate"),
              arguments: ["up", "--database-url", url.description, "--migrations", TestEnvironment.migrationsDirectory])
    }

    @Test func aFailingMigrationKeepsEveryServiceDownAndSaysWhy() async throws {
        let scene = try WatchdogScene()
        let unreachable = try DatabaseURL(parsing: "postgres://postgres@127.0.0.1:1/gordon")
        let watchdog = try scene.start(WatchdogConfiguration(
            statusFile: scene.statusFile, restart: WatchdogScene.fastRestarts, migrate: Self.migrate(unreachable),
            services: [scene.service("data"), scene.service("bot")]))
        #expect(try await eventually(timeout: .seconds(30)) { (scene.status?.migrateAttempts ?? 0) >= 3 })
        let status = try #require(scene.status)
        #expect(status.phase == "migrate_failed" || status.phase == "migrating")
        #expect(status.reason.contains("GORDON-DB") || status.reason.contains("migrating"))
        #expect(status.services.allSatisfy { $0.state == "waiting" && $0.pid == nil })
        #expect(scene.events.isEmpty)
        let result = try #require(try await watchdog.stop())
        #expect(result.status == 0)
        #expect(result.stderr.contains("migration failed") && result.stderr.contains("no service starts"))
        #expect(scene.events.isEmpty)
    }

    @Test func afterTheMigrationServicesRunAndStopInReverseOrder() async throws {
        try await withTestDatabase(empty: true) { database in
            let scene = try WatchdogScene()
            // Fails once, then is the real migrator: the retry is what brings the services up.
            let flaky = try scene.script("flaky-migrate", """
                #!/bin/sh
                if [ ! -f "$0.failed" ]; then touch "$0.failed"; echo "first attempt fails" >&2; exit 1; fi
                exec "$@"
                """)
            let real = Self.migrate(database.url)
            let migrate = WatchdogConfiguration.Command(name: "migrate", executable: flaky, arguments: [real.executable] + real.arguments)
            let watchdog = try scene.start(WatchdogConfiguration(
                statusFile: scene.statusFile, stopGraceSeconds: 5, restart: WatchdogScene.fastRestarts, migrate: migrate,
                services: [scene.service("data"), scene.service("executor"), scene.service("bot")]))
            #expect(try await eventually(timeout: .seconds(60)) {
                scene.status?.phase == "running" && scene.events.filter { $0.hasPrefix("start") }.count == 3
            })
            #expect(scene.status?.migrateAttempts == 2)
            // The schema is really there: the migrator ran before anything started.
            let applied = try await withConnection(try await database.connect()) { connection in
                var count = 0
                for try await n in try await connection.query("SELECT count(*)::int FROM public.schema_migrations", logger: TestEnvironment.logger).decode(Int.self) { count = n }
                return count
            }
            #expect(applied > 0)
            let result = try #require(try await watchdog.stop(timeout: .seconds(30)))
            #expect(result.status == 0)
            // The migrator's own lines reach the watchdog's log (the journal on the device).
            #expect(result.stderr.contains("gordon-migrate: applied 0001_roles_and_schemas.sql"), "\(result.stderr)")
            #expect(result.stderr.contains("gordon-migrate: schema is at version"))
            #expect(scene.events.filter { $0.hasPrefix("stop") } == ["stop bot", "stop executor", "stop data"])
            #expect(scene.status?.phase == "stopped")
        }
    }

    @Test func aCrashingServiceIsRestartedThenLeftDownWhileTheOthersRun() async throws {
        let scene = try WatchdogScene()
        let ok = WatchdogConfiguration.Command(name: "migrate", executable: "/bin/true")
        let watchdog = try scene.start(WatchdogConfiguration(
            statusFile: scene.statusFile, restart: WatchdogScene.fastRestarts, migrate: ok,
            services: [scene.service("data"), scene.service("bot", script: "crasher")]))
        #expect(try await eventually(timeout: .seconds(30)) { scene.status?.services.last?.state == "crash_loop" })
        let status = try #require(scene.status)
        #expect(status.services[1].restarts == 2)
        #expect(status.services[1].lastExit == "exit 3")
        #expect(status.services[0].state == "running")
        #expect(scene.events.filter { $0 == "crash bot" }.count == 3)
        #expect(try await watchdog.stop()?.status == 0)
    }

    @Test("A service with a log file writes its output there, appended over restarts, not into the watchdog's")
    func aServiceLogFileCollectsEveryRun() async throws {
        let scene = try WatchdogScene()
        try scene.script("talker", """
            #!/bin/sh
            echo "out $1"
            echo "err $1" >&2
            exit 3
            """)
        var talker = scene.service("talker", script: "talker")
        talker.logFile = scene.directory + "/talker.log"
        let watchdog = try scene.start(WatchdogConfiguration(
            statusFile: scene.statusFile, restart: WatchdogScene.fastRestarts,
            migrate: .init(name: "migrate", executable: "/bin/true"), services: [talker]))
        #expect(try await eventually(timeout: .seconds(30)) { scene.status?.services.first?.state == "crash_loop" })
        let result = try #require(try await watchdog.stop())
        let log = (try? String(contentsOfFile: scene.directory + "/talker.log", encoding: .utf8)) ?? ""
        #expect(log == String(repeating: "out talker\nerr talker\n", count: 3), "\(log)")
        #expect(!result.stderr.contains("out talker") && !result.stderr.contains("err talker"))
    }

    @Test("SIGHUP: an added service starts, a removed one stops for good, the others keep their process; a broken file changes nothing")
    func aReloadAddsAndRemovesServicesAndLeavesTheRestAlone() async throws {
        let scene = try WatchdogScene()
        var configuration = WatchdogConfiguration(
            statusFile: scene.statusFile, stopGraceSeconds: 5, restart: WatchdogScene.fastRestarts,
            migrate: .init(name: "migrate", executable: "/bin/true"), services: [scene.service("data"), scene.service("bot")])
        let watchdog = try scene.start(configuration)
        #expect(try await eventually(timeout: .seconds(30)) {
            scene.status?.services.allSatisfy { $0.state == "running" } == true && scene.events.filter { $0.hasPrefix("start") }.count == 2
        })
        let dataPid = try #require(scene.status?.services.first?.pid)

        try "{\"statusFile\": ".write(toFile: scene.directory + "/watchdog.json", atomically: true, encoding: .utf8)
        watchdog.process.signal(SIGHUP)
        #expect(try await eventually(timeout: .seconds(30)) { watchdog.stderr.contains("configuration not reloaded") })
        #expect(scene.status?.services.map(\.name) == ["data", "bot"])

        configuration.services = [scene.service("data"), scene.service("bot-two")]
        try scene.write(configuration)
        watchdog.process.signal(SIGHUP)
        #expect(try await eventually(timeout: .seconds(30)) {
            scene.status?.services.map(\.name) == ["data", "bot-two"] && scene.events.contains("stop bot")
                && scene.events.contains { $0.hasPrefix("start bot-two") }
        })
        #expect(scene.status?.services.first?.pid == dataPid, "data was restarted by a reload that did not change it")
        #expect(scene.events.filter { $0.hasPrefix("start data") }.count == 1)
        #expect(watchdog.stderr.contains(#""added":"bot-two""#) && watchdog.stderr.contains(#""removed":"bot""#), "\(watchdog.stderr)")
        let result = try #require(try await watchdog.stop(timeout: .seconds(30)))
        #expect(result.status == 0)
        #expect(scene.events.filter { $0.hasPrefix("stop") } == ["stop bot", "stop bot-two", "stop data"])
    }

    @Test func aServiceThatIgnoresSIGTERMIsKilledAfterTheGrace() async throws {
        let scene = try WatchdogScene()
        try scene.script("stubborn", """
            #!/bin/sh
            trap '' TERM
            echo "start $1" >> "$2/events"
            while :; do sleep 1; done
            """)
        let watchdog = try scene.start(WatchdogConfiguration(
            statusFile: scene.statusFile, stopGraceSeconds: 0.5, restart: WatchdogScene.fastRestarts,
            migrate: .init(name: "migrate", executable: "/bin/true"), services: [scene.service("stubborn", script: "stubborn")]))
        #expect(try await eventually(timeout: .seconds(30)) { scene.status?.services.first?.state == "running" && !scene.events.isEmpty })
        let result = try #require(try await watchdog.stop(timeout: .seconds(30)))
        #expect(result.status == 0)
        #expect(result.stderr.contains(#""signal":"9""#))
        #expect(scene.status?.services.first?.lastExit == "killed by signal 9")
    }

    @Test func badConfigurationIsOneClearLine() async throws {
        let scene = try WatchdogScene()
        let path = try scene.script("bad.json", "{\"statusFile\": \"/run/s\", \"migrate\": {\"name\": \"m\", \"executable\": \"m\"}, \"services\": []}")
        let result = try await TestCommand.run("gordon-watchdog", ["check-config", "--config", path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("m: executable must be an absolute path"))
        let missing = try await TestCommand.run("gordon-watchdog", ["--config", scene.directory + "/nope.json"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot read --config"))
    }

    /// Root only (CI runs as root): the service runs as `nobody`, cannot read a keyfile that
    /// belongs to root, and the watchdog itself keeps running as root.
    @Test(.enabled(if: getuid() == 0)) func servicesRunAsTheirOwnUserAndCannotReadOtherKeys() async throws {
        let scene = try WatchdogScene()
        let secret = scene.directory + "/other.key"
        try "postgres_password = not-yours\n".write(toFile: secret, atomically: true, encoding: .utf8)
        chmod(secret, 0o400)
        try scene.script("prober", """
            #!/bin/sh
            if cat "$2/other.key" >/dev/null 2>&1; then r=read; else r=denied; fi
            echo "start $1 $(id -u) $(id -G) $r" >> "$2/events"
            sleep 1000 & wait $!
            """)
        let watchdog = try scene.start(WatchdogConfiguration(
            statusFile: scene.statusFile, restart: WatchdogScene.fastRestarts, migrate: .init(name: "migrate", executable: "/bin/true"),
            services: [scene.service("probe", script: "prober", user: "nobody")]))
        #expect(try await eventually(timeout: .seconds(30)) { !scene.events.isEmpty })
        let nobody = try UnixUser.lookup("nobody")
        #expect(scene.events.first == "start probe \(nobody.uid) \(nobody.gid) denied")
        #expect(try await watchdog.stop()?.status == 0)
    }
}
