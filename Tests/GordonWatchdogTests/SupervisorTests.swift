import Foundation
@testable import GordonWatchdog
import GordonProcess
import Testing

@Suite("Supervisor: migrate first, restart with backoff, crash loops, reverse stop")
struct SupervisorTests {
    static let policy = WatchdogConfiguration.RestartPolicy(
        initialBackoffSeconds: 1, maximumBackoffSeconds: 4, crashLoopLimit: 3, crashLoopWindowSeconds: 60, healthyAfterSeconds: 30)

    static func running(_ names: [String] = ["data", "executor", "bot"]) -> Supervisor {
        var supervisor = Supervisor(serviceNames: names, policy: policy, stopGrace: .seconds(10))
        _ = supervisor.begin()
        supervisor.launched(.migrate, pid: 100, at: .zero)
        _ = supervisor.ended(.migrate, status: .exited(0), at: .seconds(1))
        for index in names.indices { supervisor.launched(.service(index), pid: Int32(200 + index), at: .seconds(1)) }
        return supervisor
    }

    @Test func nothingButTheMigratorRunsUntilItExitsZeroThenEveryServiceInOrder() {
        var supervisor = Supervisor(serviceNames: ["data", "executor", "bot"], policy: Self.policy, stopGrace: .seconds(10))
        #expect(supervisor.begin() == [.start(.migrate)])
        supervisor.launched(.migrate, pid: 100, at: .zero)
        #expect(supervisor.tick(at: .seconds(5)).isEmpty)
        #expect(supervisor.phase == .migrating)
        #expect(supervisor.ended(.migrate, status: .exited(0), at: .seconds(6)) == [.start(.service(0)), .start(.service(1)), .start(.service(2))])
        #expect(supervisor.phase == .running)
    }

    @Test func aFailedMigrationStartsNothingAndIsRetriedWithGrowingBackoff() {
        var supervisor = Supervisor(serviceNames: ["data"], policy: Self.policy, stopGrace: .seconds(10))
        _ = supervisor.begin()
        supervisor.launched(.migrate, pid: 100, at: .zero)
        #expect(supervisor.ended(.migrate, status: .exited(1), detail: "GORDON-DB-0001 unreachable", at: .seconds(1)).isEmpty)
        #expect(supervisor.phase == .migrateFailed)
        #expect(supervisor.reason.contains("GORDON-DB-0001 unreachable") && supervisor.reason.contains("no service starts"))
        #expect(supervisor.nextDeadline == .seconds(2))
        #expect(supervisor.tick(at: .milliseconds(1999)).isEmpty)
        #expect(supervisor.tick(at: .seconds(2)) == [.start(.migrate)])
        supervisor.launched(.migrate, pid: 101, at: .seconds(2))
        _ = supervisor.ended(.migrate, status: .signalled(9), at: .seconds(3))
        #expect(supervisor.nextDeadline == .seconds(5))  // 2 s: doubled
        #expect(supervisor.migrateAttempts == 2)
        #expect(supervisor.services.allSatisfy { $0.state == .waiting && $0.pid == nil })
    }

    @Test func aCrashedServiceRestartsAfterABackoffThatDoublesAndResetsAfterAHealthyRun() {
        var supervisor = Self.running()
        #expect(supervisor.unit(of: 201) == .service(1))
        #expect(supervisor.ended(.service(1), status: .exited(2), at: .seconds(2)).isEmpty)
        #expect(supervisor.services[1].state == .backoff)
        #expect(supervisor.tick(at: .milliseconds(2999)).isEmpty)
        #expect(supervisor.tick(at: .seconds(3)) == [.start(.service(1))])
        supervisor.launched(.service(1), pid: 301, at: .seconds(3))
        _ = supervisor.ended(.service(1), status: .exited(2), at: .seconds(4))
        #expect(supervisor.nextDeadline == .seconds(6))  // 2 s
        #expect(supervisor.tick(at: .seconds(6)) == [.start(.service(1))])
        supervisor.launched(.service(1), pid: 302, at: .seconds(6))
        // Ran 40 s (> healthyAfter): back to 1 s; the earlier crashes are also out of the window.
        _ = supervisor.ended(.service(1), status: .signalled(11), at: .seconds(66))
        #expect(supervisor.nextDeadline == .seconds(67))
        #expect(supervisor.services[1].restarts == 2)
        #expect(supervisor.services[1].lastExit == .signalled(11))
        #expect(supervisor.services[0].state == .running && supervisor.services[2].state == .running)
    }

    @Test func crashingLimitTimesWithinTheWindowLeavesTheServiceDown() {
        var supervisor = Self.running(["data", "bot"])
        var now = Duration.seconds(2)
        for attempt in 0..<3 {
            _ = supervisor.ended(.service(1), status: .exited(1), at: now)
            if attempt < 2 {
                now += .seconds(5)
                #expect(supervisor.tick(at: now) == [.start(.service(1))])
                supervisor.launched(.service(1), pid: Int32(400 + attempt), at: now)
                now += .seconds(1)
            }
        }
        #expect(supervisor.services[1].state == .crashLoop)
        #expect(supervisor.reason.contains("bot crashed 3 times"))
        #expect(supervisor.tick(at: now + .seconds(3600)).isEmpty)
        #expect(supervisor.nextDeadline == nil)
        #expect(supervisor.services[0].state == .running)
    }

    @Test func notStartingCountsAsACrash() {
        var supervisor = Self.running(["data"])
        _ = supervisor.ended(.service(0), status: .notStarted("no user gordon-data"), at: .seconds(2))
        #expect(supervisor.services[0].state == .backoff)
        #expect(supervisor.reason.contains("no user gordon-data"))
    }

    @Test func stopGoesInReverseOrderOneAtATimeWithSIGKILLAfterTheGrace() {
        var supervisor = Self.running()
        #expect(supervisor.stopRequested(at: .seconds(10)) == [.signal(pid: 202, signal: 15)])
        #expect(supervisor.tick(at: .seconds(15)).isEmpty)
        #expect(supervisor.ended(.service(2), status: .exited(0), at: .seconds(15)) == [.signal(pid: 201, signal: 15)])
        #expect(supervisor.nextDeadline == .seconds(25))
        #expect(supervisor.tick(at: .seconds(25)) == [.signal(pid: 201, signal: 9)])
        #expect(supervisor.tick(at: .seconds(26)).isEmpty)  // SIGKILL once
        #expect(supervisor.ended(.service(1), status: .signalled(9), at: .seconds(26)) == [.signal(pid: 200, signal: 15)])
        #expect(supervisor.ended(.service(0), status: .exited(0), at: .seconds(27)) == [.exit(code: 0)])
        #expect(supervisor.phase == .stopped)
        #expect(supervisor.stopRequested(at: .seconds(28)).isEmpty)
    }

    @Test func stopSkipsServicesWaitingForARestart() {
        var supervisor = Self.running()
        _ = supervisor.ended(.service(2), status: .exited(1), at: .seconds(2))
        #expect(supervisor.stopRequested(at: .seconds(2)) == [.signal(pid: 201, signal: 15)])
        #expect(supervisor.tick(at: .seconds(100)).contains(.start(.service(2))) == false)
    }

    @Test func stopDuringTheMigrationWaitsForTheMigratorAndStartsNothing() {
        var supervisor = Supervisor(serviceNames: ["data"], policy: Self.policy, stopGrace: .seconds(10))
        _ = supervisor.begin()
        supervisor.launched(.migrate, pid: 100, at: .zero)
        #expect(supervisor.stopRequested(at: .seconds(1)) == [.signal(pid: 100, signal: 15)])
        #expect(supervisor.tick(at: .seconds(11)) == [.signal(pid: 100, signal: 9)])
        #expect(supervisor.ended(.migrate, status: .signalled(9), at: .seconds(12)) == [.exit(code: 0)])
    }

    @Test func withNoServicesTheMigrationStillRunsAndAStopExits() {
        var supervisor = Supervisor(serviceNames: [], policy: Self.policy, stopGrace: .seconds(10))
        _ = supervisor.begin()
        supervisor.launched(.migrate, pid: 100, at: .zero)
        #expect(supervisor.ended(.migrate, status: .exited(0), at: .seconds(1)).isEmpty)
        #expect(supervisor.phase == .running)
        #expect(supervisor.stopRequested(at: .seconds(2)) == [.exit(code: 0)])
    }

    @Test func stopWhileTheMigrationWaitsToRetryExitsAtOnce() {
        var supervisor = Supervisor(serviceNames: ["data"], policy: Self.policy, stopGrace: .seconds(10))
        _ = supervisor.begin()
        supervisor.launched(.migrate, pid: 100, at: .zero)
        _ = supervisor.ended(.migrate, status: .exited(1), at: .seconds(1))
        #expect(supervisor.stopRequested(at: .seconds(1)) == [.exit(code: 0)])
    }
}

@Suite("Backup plan: steps, retention and the restore pipeline")
struct BackupPlanTests {
    static let configuration = WatchdogConfiguration.BackupConfiguration(
        pgDump: .init(name: "pg_dump", executable: "/usr/bin/pg_dump", arguments: ["--dbname=gordon"], user: "postgres"),
        psql: .init(name: "psql", executable: "/usr/bin/psql", arguments: ["--dbname=gordon"], user: "postgres"),
        restic: .init(name: "restic", executable: "/usr/bin/restic", user: "postgres"),
        repository: "sftp:backup@backuphost:/gordon", passwordFile: "/etc/gordon/keys/restic.key",
        cacheDirectory: "/var/lib/gordon/restic-cache", keepDaily: 7, keepWeekly: 5, keepMonthly: 12)

    @Test func stepsRunInOrderAndAMissingRepositoryIsInitialised() {
        let plan = BackupPlan(Self.configuration)
        #expect(plan.firstStep == .checkRepository)
        #expect(plan.next(after: .checkRepository, succeeded: true) == .run(.dumpAndBackup))
        #expect(plan.next(after: .checkRepository, succeeded: false) == .run(.initializeRepository))
        #expect(plan.next(after: .initializeRepository, succeeded: true) == .run(.dumpAndBackup))
        #expect(plan.next(after: .dumpAndBackup, succeeded: true) == .run(.forget))
        #expect(plan.next(after: .forget, succeeded: true) == .run(.check))
        #expect(plan.next(after: .check, succeeded: true) == .succeeded)
        #expect(plan.next(after: .dumpAndBackup, succeeded: false) == .failed(.dumpAndBackup))
        var noInit = Self.configuration
        noInit.initializeRepository = false
        #expect(BackupPlan(noInit).next(after: .checkRepository, succeeded: false) == .failed(.checkRepository))
    }

    @Test func theDumpIsStreamedIntoResticAndThePasswordStaysInItsFile() throws {
        let plan = BackupPlan(Self.configuration)
        let pipeline = plan.pipeline(.dumpAndBackup)
        #expect(pipeline.count == 2)
        #expect(pipeline[0].arguments == ["--dbname=gordon", "--schema=trading", "--clean", "--if-exists", "--format=plain", "--no-password"])
        #expect(pipeline[1].arguments == ["backup", "--stdin", "--stdin-filename", "gordon-trading.sql", "--tag", "gordon-trading", "--json"])
        #expect(pipeline[1].environment == ["RESTIC_REPOSITORY": "sftp:backup@backuphost:/gordon",
                                            "RESTIC_PASSWORD_FILE": "/etc/gordon/keys/restic.key",
                                            "RESTIC_CACHE_DIR": "/var/lib/gordon/restic-cache"])
        #expect(plan.pipeline(.forget)[0].arguments == ["forget", "--prune", "--tag", "gordon-trading", "--keep-daily", "7",
                                                        "--keep-weekly", "5", "--keep-monthly", "12"])
        let restore = plan.restorePipeline(snapshot: "latest", requestedBy: "operator:o'brien")
        #expect(restore[0].executable == "/bin/sh")
        #expect(Array(restore[0].arguments.suffix(3)) == ["dump", "latest", "gordon-trading.sql"])
        #expect(restore[1].arguments.contains("--single-transaction") && restore[1].arguments.contains("ON_ERROR_STOP=1"))
        // The dump from standard input, then the latch, in that order and in the one transaction.
        let file = try #require(restore[1].arguments.firstIndex(of: "--file=-"))
        let command = try #require(restore[1].arguments.firstIndex { $0.hasPrefix("--command=") })
        #expect(file < command)
        #expect(restore[1].arguments[command].contains("UPDATE trading.halt_latch SET halted = true"))
        #expect(restore[1].arguments[command].contains("'operator:o''brien'"))
    }

    @Test("an sftp repository: restic's ssh logs in with its own key and the pinned host key, learning nothing; a malformed one is refused by name")
    func sftpRepositoriesUseThePinnedLogin() throws {
        var configuration = Self.configuration
        configuration.sftp = .init(identityFile: "/etc/gordon/keys/backup-ssh.key", knownHostsFile: "/etc/gordon/keys/backup-known-hosts")
        let arguments = BackupPlan(configuration).pipeline(.check)[0].arguments
        #expect(Array(arguments.prefix(2)) == ["-o", "sftp.command=/usr/bin/ssh -F none -i /etc/gordon/keys/backup-ssh.key -o IdentitiesOnly=yes "
            + "-o UserKnownHostsFile=/etc/gordon/keys/backup-known-hosts -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes "
            + "-o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4 backup@backuphost -s sftp"])
        #expect(arguments.last == "check")
        var local = configuration
        local.repository = "/var/lib/gordon/restic-repository"
        #expect(BackupPlan(local).pipeline(.check)[0].arguments == ["check"], "a local repository needs no ssh")

        let withPort = try #require(try SFTPRepository("sftp://gordon@srv-core:2222//srv/restic/gordon"))
        #expect([withPort.user, withPort.host, withPort.path] == ["gordon", "srv-core", "/srv/restic/gordon"] && withPort.port == 2222)
        #expect(configuration.sftp!.command(for: withPort).hasSuffix("-p 2222 gordon@srv-core -s sftp"))
        for bad in ["sftp:backuphost:/gordon", "sftp:@backuphost:/gordon", "sftp://u@h:99999//x", "sftp:-oProxyCommand=sh@h:/p", "sftp:u@h",
                    "sftp:u@-oX:/p"] {
            #expect { try SFTPRepository(bad) } throws: { "\($0)".contains("is not an sftp repository restic takes") }
        }
    }

    @Test("an sftp repository without ssh settings is refused; the device's settings file names the backup host")
    func sftpNeedsItsSettingsAndTheDeviceNamesTheHost() throws {
        let base = WatchdogConfiguration(statusFile: "/run/gordon/status", migrate: .init(name: "m", executable: "/m"), services: [],
                                         backup: Self.configuration)
        #expect { try base.validate() } throws: { "\($0)".contains("an sftp repository needs \"sftp\"") }
        var spaced = base
        spaced.backup?.sftp = .init(identityFile: "/etc/gordon/keys/backup ssh.key", knownHostsFile: "/k")
        #expect { try spaced.validate() } throws: { "\($0)".contains("sftp.identityFile must be an absolute path without spaces") }

        let settings = "/tmp/gordon-settings-\(UInt64.random(in: 0...UInt64.max)).conf"
        defer { try? FileManager.default.removeItem(atPath: settings) }
        var configured = base
        configured.backup?.repository = "/var/lib/gordon/restic-repository"
        configured.backup?.settingsFile = settings
        configured.backup?.sftp = .init(identityFile: "/etc/gordon/keys/backup-ssh.key", knownHostsFile: "/etc/gordon/keys/backup-known-hosts")
        let text = String(decoding: try JSONEncoder().encode(configured), as: UTF8.self)
        #expect(try WatchdogConfiguration.parse(text).backup?.repository == "/var/lib/gordon/restic-repository", "no settings file: the default")
        try "exchange = testnet\n#backup_repository = sftp:old@old:/old\n  backup_repository = sftp://gordon@srv-core:2222//srv/restic/gordon  # the LAN's\n"
            .write(toFile: settings, atomically: true, encoding: .utf8)
        #expect(try WatchdogConfiguration.parse(text).backup?.repository == "sftp://gordon@srv-core:2222//srv/restic/gordon")
        try "backup_repository = sftp:nohost\n".write(toFile: settings, atomically: true, encoding: .utf8)
        #expect { try WatchdogConfiguration.parse(text) } throws: { "\($0)".contains("\"sftp:nohost\" is not an sftp repository") }
    }

    @Test func aRestoreStopsEveryServiceInReverseThenMigratesAndStartsThemAfresh() {
        var supervisor = SupervisorTests.running()
        _ = supervisor.ended(.service(2), status: .exited(1), at: .seconds(2))  // in backoff: it must not come back mid-restore
        #expect(supervisor.stopForRestore(at: .seconds(3)) == [.signal(pid: 201, signal: 15)])
        #expect(supervisor.phase == .stoppingForRestore)
        #expect(supervisor.tick(at: .seconds(10)).isEmpty)  // no restart of the crashed one
        #expect(supervisor.ended(.service(1), status: .exited(0), at: .seconds(4)) == [.signal(pid: 200, signal: 15)])
        #expect(supervisor.tick(at: .seconds(15)) == [.signal(pid: 200, signal: 9)])  // its grace ran out
        #expect(supervisor.ended(.service(0), status: .signalled(9), at: .seconds(15)) == [.servicesStopped])
        #expect(supervisor.phase == .restoring)
        #expect(supervisor.stopForRestore(at: .seconds(16)).isEmpty)
        #expect(supervisor.restoreEnded(succeeded: true, at: .seconds(20)) == [.start(.migrate)])
        #expect(supervisor.phase == .migrating && supervisor.migrateAttempts == 2)
        #expect(supervisor.services.allSatisfy { $0.state == .waiting && $0.pid == nil })
        supervisor.launched(.migrate, pid: 400, at: .seconds(20))
        #expect(supervisor.ended(.migrate, status: .exited(0), at: .seconds(21)) == [.start(.service(0)), .start(.service(1)), .start(.service(2))])
    }

    @Test func aStopDuringARestoreExitsOnceNothingRuns() {
        var supervisor = SupervisorTests.running(["data"])
        #expect(supervisor.stopForRestore(at: .seconds(2)) == [.signal(pid: 200, signal: 15)])
        _ = supervisor.ended(.service(0), status: .exited(0), at: .seconds(3))
        #expect(supervisor.phase == .restoring)
        #expect(supervisor.stopRequested(at: .seconds(4)) == [.exit(code: 0)])
        #expect(supervisor.restoreEnded(succeeded: false, at: .seconds(5)).isEmpty)
        #expect(supervisor.phase == .stopped)
    }

    @Test func theRequestFileSaysWhoAndWhat() throws {
        #expect(try WatchdogRequest.parse("operator:alice\n") == WatchdogRequest(requestedBy: "operator:alice", action: .backup))
        #expect(try WatchdogRequest.parse("operator:bob\nlist\n").action == .listSnapshots)
        #expect(try WatchdogRequest.parse("operator:bob\nrestore 4f1c2a9b\n").action == .restore(snapshot: "4f1c2a9b"))
        #expect(try WatchdogRequest.parse("\nrestore latest").requestedBy == "unknown")
        for request in [WatchdogRequest(requestedBy: "operator:carol", action: .restore(snapshot: "latest")),
                        WatchdogRequest(requestedBy: "operator:carol", action: .listSnapshots)] {
            #expect(try WatchdogRequest.parse(request.text) == request)
        }
        for bad in ["op\nrestore", "op\nrestore 4f1c", "op\nrestore 4F1C2A9B", "op\nrestore latest; rm", "op\nrestore ../x/yy/zz", "op\ndrop"] {
            #expect(throws: LaunchError.self) { try WatchdogRequest.parse(bad) }
        }
    }

    @Test func resticsSnapshotListIsKeptNewestFirst() {
        let output = """
            [{"time":"2026-12-05T02:00:01.5+00:00","tree":"aa","paths":["/gordon-trading.sql"],"id":"1111111111111111","short_id":"11111111"},
             {"time":"2026-12-07T02:00:01.25+00:00","tree":"bb","paths":["/gordon-trading.sql"],"id":"3333333333333333","short_id":"33333333"},
             {"time":"2026-12-06T02:00:01+00:00","tree":"cc","paths":["/gordon-trading.sql"],"id":"2222222222222222","short_id":"22222222"}]
            """
        #expect(WatchdogStatus.snapshots(inResticOutput: output)?.map(\.id) == ["3333333333333333", "2222222222222222", "1111111111111111"])
        #expect(WatchdogStatus.snapshots(inResticOutput: "[]") == [])
        #expect(WatchdogStatus.snapshots(inResticOutput: "Fatal: wrong password or no key found") == nil)
    }

    @Test func theSnapshotIdComesFromResticsSummaryLine() {
        let output = """
            {"message_type":"status","percent_done":0}
            {"message_type":"summary","files_new":1,"snapshot_id":"4f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"}
            """
        #expect(BackupPlan.snapshotId(inBackupOutput: output) == "4f1c2a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a")
        #expect(BackupPlan.snapshotId(inBackupOutput: "Fatal: unable to open repository") == nil)
    }
}

@Suite("Watchdog configuration: every problem named in one line")
struct WatchdogConfigurationTests {
    static let valid = """
        {"statusFile": "/run/gordon/status",
         "migrate": {"name": "gordon-migrate", "executable": "/usr/lib/gordon/gordon-migrate", "arguments": ["up"], "user": "gordon-migrate"},
         "services": [{"name": "gordon-data", "executable": "/usr/lib/gordon/gordon-data", "user": "gordon-data"}]}
        """

    @Test("a service directory's files add their services after the file's own, in name order; a bad one is named")
    func servicesFromTheServiceDirectory() throws {
        let directory = "/tmp/gordon-watchdog-services-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let text = Self.valid.replacingOccurrences(of: #"{"statusFile""#, with: #"{"serviceDirectory": "\#(directory)", "statusFile""#)
        #expect(try WatchdogConfiguration.parse(text).services.map(\.name) == ["gordon-data"], "an empty directory adds nothing")
        try #"[{"name": "gordon-bot-zeta", "executable": "/usr/lib/gordon/gordon-bot"}]"#
            .write(toFile: directory + "/bot-zeta.json", atomically: true, encoding: .utf8)
        try #"[{"name": "gordon-bot-alpha", "executable": "/usr/lib/gordon/gordon-bot"}, {"name": "gordon-bot-alpha-relay", "executable": "/r"}]"#
            .write(toFile: directory + "/bot-alpha.json", atomically: true, encoding: .utf8)
        try "not for the watchdog".write(toFile: directory + "/README", atomically: true, encoding: .utf8)
        #expect(try WatchdogConfiguration.parse(text).services.map(\.name)
                == ["gordon-data", "gordon-bot-alpha", "gordon-bot-alpha-relay", "gordon-bot-zeta"])

        try #"[{"name": "gordon-data", "executable": "/x"}]"#.write(toFile: directory + "/twice.json", atomically: true, encoding: .utf8)
        #expect { try WatchdogConfiguration.parse(text) } throws: { "\($0)".contains("two commands are named \"gordon-data\"") }
        try #"[{"name": "gordon-bot-beta"}]"#.write(toFile: directory + "/twice.json", atomically: true, encoding: .utf8)
        #expect { try WatchdogConfiguration.parse(text) } throws: { "\($0)".contains("/twice.json: missing \"[0].executable\"") }
        let missing = Self.valid.replacingOccurrences(of: #"{"statusFile""#, with: #"{"serviceDirectory": "/nonexistent/services", "statusFile""#)
        #expect(try WatchdogConfiguration.parse(missing).services.count == 1, "no directory yet: no bot added yet")
    }

    @Test func aMinimalFileGetsTheDocumentedDefaults() throws {
        let configuration = try WatchdogConfiguration.parse(Self.valid)
        #expect(configuration.stopGraceSeconds == 10)
        #expect(configuration.restart == WatchdogConfiguration.RestartPolicy())
        #expect(configuration.services.map(\.name) == ["gordon-data"])
        #expect(configuration.backup == nil)
    }

    @Test(arguments: [
        ("{}", "missing \"statusFile\""),
        ("{\"statusFile\": \"/run/s\", \"migrate\": {\"name\": \"m\"}, \"services\": []}", "missing \"migrate.executable\""),
        ("{\"statusFile\": \"run/s\", \"migrate\": {\"name\": \"m\", \"executable\": \"/m\"}, \"services\": [{\"name\": \"a\", \"executable\": \"/a\"}]}",
         "statusFile must be an absolute path"),
        ("{\"statusFile\": \"/run/s\", \"migrate\": {\"name\": \"m\", \"executable\": \"m\"}, \"services\": [{\"name\": \"a\", \"executable\": \"/a\"}]}",
         "m: executable must be an absolute path"),
        ("{\"statusFile\": \"/run/s\", \"migrate\": {\"name\": \"a\", \"executable\": \"/m\"}, \"services\": [{\"name\": \"a\", \"executable\": \"/a\"}]}",
         "two commands are named \"a\""),
        ("{\"statusFile\": \"/run/s\", \"stopGraceSeconds\": \"ten\", \"migrate\": {\"name\": \"m\", \"executable\": \"/m\"}, \"services\": []}",
         "\"stopGraceSeconds\" has the wrong type"),
        ("not json", "not valid JSON"),
    ])
    func badFilesAreExplained(text: String, message: String) {
        #expect {
            try WatchdogConfiguration.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }
}

extension SupervisorTests {
    // MARK: Reload (SIGHUP)

    @Test("a reload adds a bot at the end without touching anything else; it stops first")
    func aReloadAddsAServiceAndTouchesNothingElse() {
        var supervisor = Self.running()
        let before = supervisor.services
        let actions = supervisor.reconfigure(["data", "executor", "bot", "bot-two"], changed: [], at: .seconds(5))
        #expect(actions == [.start(.service(3))])
        #expect(Array(supervisor.services.prefix(3)) == before, "the running services were touched")
        supervisor.launched(.service(3), pid: 203, at: .seconds(5))
        #expect(supervisor.stopRequested(at: .seconds(6)) == [.signal(pid: 203, signal: 15)], "the newest goes down first")
    }

    @Test("a removed service is stopped, its exit is no crash, and it never starts again; a changed one restarts at once")
    func aReloadRemovesAndChangesServices() {
        var supervisor = Self.running()
        let actions = supervisor.reconfigure(["data", "executor"], changed: ["data"], at: .seconds(5))
        #expect(actions == [.signal(pid: 202, signal: 15), .signal(pid: 200, signal: 15)])
        #expect(supervisor.services[2].state == .stopping && supervisor.services[0].state == .stopping)
        #expect(supervisor.services[1].state == .running)
        // The retiring bot ends: retired, not restarted, never counted as a crash.
        #expect(supervisor.ended(.service(2), status: .exited(0), at: .seconds(6)).isEmpty)
        #expect(supervisor.services[2].state == .retired)
        // The changed one ends: started again at once with its new command.
        #expect(supervisor.ended(.service(0), status: .exited(0), at: .seconds(7)) == [.start(.service(0))])
        #expect(supervisor.services[0].restarts == 1 && supervisor.services[0].state == .waiting)
        supervisor.launched(.service(0), pid: 300, at: .seconds(7))
        #expect(supervisor.services[0].state == .running)
        #expect(supervisor.tick(at: .seconds(100)).isEmpty, "the retired bot came back")
        // A retired service is not stopped again, nor started after a restore.
        #expect(supervisor.stopRequested(at: .seconds(8)) == [.signal(pid: 201, signal: 15)])
    }

    @Test("a service that ignores the reload's SIGTERM is killed after the grace, while the others run on")
    func aReloadKillsAStubbornService() {
        var supervisor = Self.running()
        #expect(supervisor.reconfigure(["data", "executor"], changed: [], at: .seconds(5)) == [.signal(pid: 202, signal: 15)])
        #expect(supervisor.nextDeadline == .seconds(15))
        #expect(supervisor.tick(at: .seconds(14)).isEmpty)
        #expect(supervisor.tick(at: .seconds(15)) == [.signal(pid: 202, signal: 9)])
        #expect(supervisor.ended(.service(2), status: .signalled(9), at: .seconds(15)).isEmpty)
        #expect(supervisor.services[2].state == .retired)
        #expect(supervisor.phase == .running)
    }

    @Test("a crash-looped service starts again at a reload: the operator has acted")
    func aReloadRestartsACrashLoopedService() {
        var supervisor = Self.running(["data"])
        var now = Duration.seconds(2)
        for pid in Int32(300)..<303 {
            _ = supervisor.ended(.service(0), status: .exited(1), at: now)
            now += .seconds(5)
            if supervisor.tick(at: now) == [.start(.service(0))] { supervisor.launched(.service(0), pid: pid, at: now) }
        }
        #expect(supervisor.services[0].state == .crashLoop)
        #expect(supervisor.reconfigure(["data"], changed: [], at: now) == [.start(.service(0))])
        supervisor.launched(.service(0), pid: 400, at: now)
        // Its history is forgotten: one more crash is a backoff, not the loop again.
        _ = supervisor.ended(.service(0), status: .exited(1), at: now + .seconds(1))
        #expect(supervisor.services[0].state == .backoff)
    }

    @Test("no reload while stopping or restoring; before the migration, new services wait for it")
    func reloadsWaitForTheirMoment() {
        var stopping = Self.running()
        _ = stopping.stopRequested(at: .seconds(5))
        #expect(stopping.reconfigure(["data"], changed: [], at: .seconds(6)) == nil)
        var migrating = Supervisor(serviceNames: ["data"], policy: Self.policy, stopGrace: .seconds(10))
        _ = migrating.begin()
        #expect(migrating.reconfigure(["data", "bot"], changed: ["data"], at: .seconds(1)) == [])
        migrating.launched(.migrate, pid: 100, at: .zero)
        #expect(migrating.ended(.migrate, status: .exited(0), at: .seconds(2)) == [.start(.service(0)), .start(.service(1))])
    }
}
