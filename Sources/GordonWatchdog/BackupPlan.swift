public import GordonProcess
/// One scheduled backup as a sequence of steps, each a pipeline of commands: a plain value
/// the watchdog loop (and `gordon-watchdog backup`) runs step by step.
///
/// The dump is streamed: `pg_dump` writes into `restic backup --stdin`, so no plaintext copy
/// of the trading history ever lands on the device's disk.
public struct BackupPlan: Sendable {
    public enum Step: String, Sendable, CaseIterable {
        /// `restic cat config`: does the repository exist (and is the password right)?
        case checkRepository = "check_repository"
        case initializeRepository = "initialize_repository"
        case dumpAndBackup = "dump_and_backup"
        case forget
        case check
    }

    public enum Next: Equatable, Sendable {
        case run(Step)
        case succeeded
        case failed(Step)
    }

    /// The file name the dump has inside each snapshot; `restore` asks restic for it.
    public static let dumpFileName = "gordon-trading.sql"
    public static let tag = "gordon-trading"

    public let configuration: WatchdogConfiguration.BackupConfiguration

    public init(_ configuration: WatchdogConfiguration.BackupConfiguration) {
        self.configuration = configuration
    }

    public var firstStep: Step { .checkRepository }

    /// What follows `step` once it finished.
    public func next(after step: Step, succeeded: Bool) -> Next {
        switch (step, succeeded) {
        case (.checkRepository, true): .run(.dumpAndBackup)
        case (.checkRepository, false): configuration.initializeRepository ? .run(.initializeRepository) : .failed(.checkRepository)
        case (.initializeRepository, true): .run(.dumpAndBackup)
        case (.dumpAndBackup, true): .run(.forget)
        case (.forget, true): .run(.check)
        case (.check, true): .succeeded
        case (_, false): .failed(step)
        }
    }

    /// The commands of `step`, in pipeline order (stdout of each into stdin of the next).
    public func pipeline(_ step: Step) -> [WatchdogConfiguration.Command] {
        switch step {
        case .checkRepository: [restic("cat", "config")]
        case .initializeRepository: [restic("init")]
        case .dumpAndBackup:
            [pgDump, restic("backup", "--stdin", "--stdin-filename", Self.dumpFileName, "--tag", Self.tag, "--json")]
        case .forget:
            [restic("forget", "--prune", "--tag", Self.tag, "--keep-daily", "\(configuration.keepDaily)",
                    "--keep-weekly", "\(configuration.keepWeekly)", "--keep-monthly", "\(configuration.keepMonthly)")]
        case .check: [restic("check")]
        }
    }

    /// `restic dump SNAPSHOT gordon-trading.sql | psql` in one transaction: the dump drops and
    /// recreates the `trading` schema, so a failure half way leaves the old one untouched.
    ///
    /// psql commits when its input ends, whether restic finished or died half way through the
    /// dump; so restic runs under `sh`, which adds a marker to the stream only when restic
    /// exited 0, and the transaction's last statements refuse to commit without it.
    /// They then close the halt latch, audited as `requestedBy`'s: the snapshot's orders and
    /// positions are older than the exchange's, so nothing may trade until the executor has
    /// reconciled and an operator has looked and resumed.
    public func restorePipeline(snapshot: String, requestedBy: String) -> [WatchdogConfiguration.Command] {
        var dump = restic("dump", snapshot, Self.dumpFileName)
        dump.arguments = ["-c", "\"$@\" && printf '\\n%s\\n' \"SET LOCAL gordon.restore_complete = 'yes';\"", "sh", dump.executable] + dump.arguments
        dump.executable = "/bin/sh"
        var psql = configuration.psql
        let reason = Self.literal("restored from snapshot \(snapshot): an operator resumes trading explicitly")
        let actor = Self.literal(String(requestedBy.prefix(128)))
        psql.arguments += ["--no-psqlrc", "--quiet", "--single-transaction", "--set", "ON_ERROR_STOP=1", "--file=-", """
            --command=DO $$ BEGIN IF current_setting('gordon.restore_complete', true) IS DISTINCT FROM 'yes' THEN \
            RAISE EXCEPTION 'the snapshot did not arrive whole (restic failed): nothing is restored'; END IF; END $$; \
            UPDATE trading.halt_latch SET halted = true, reason = \(reason), changed_by = \(actor), changed_at = now(); \
            INSERT INTO trading.risk_audit_log (actor, action, target, reason, details) \
            VALUES (\(actor), 'halt', 'all', \(reason), jsonb_build_object('restore', \(Self.literal(snapshot))))
            """]
        return [dump, psql]
    }

    /// A SQL string literal (standard_conforming_strings, PostgreSQL's default since 9.1).
    static func literal(_ text: String) -> String {
        "'" + text.filter { $0 != "\0" }.replacing("'", with: "''") + "'"
    }

    /// `restic snapshots` of Gordon's dumps, as JSON.
    public var listSnapshots: WatchdogConfiguration.Command { restic("snapshots", "--tag", Self.tag, "--json") }

    private var pgDump: WatchdogConfiguration.Command {
        var command = configuration.pgDump
        // --clean --if-exists: the dump replaces the schema when restored; plain SQL so a
        // restore is one psql transaction.
        command.arguments += ["--schema=trading", "--clean", "--if-exists", "--format=plain", "--no-password"]
        return command
    }

    private func restic(_ arguments: String...) -> WatchdogConfiguration.Command {
        var command = configuration.restic
        command.arguments += arguments
        command.environment["RESTIC_REPOSITORY"] = configuration.repository
        command.environment["RESTIC_PASSWORD_FILE"] = configuration.passwordFile
        // Validated with the configuration: an sftp repository always has its ssh settings.
        if let sftp = configuration.sftp, let repository = try? SFTPRepository(configuration.repository) {
            command.arguments.insert(contentsOf: ["-o", "sftp.command=\(sftp.command(for: repository))"], at: 0)
        }
        if let cache = configuration.cacheDirectory {
            command.environment["RESTIC_CACHE_DIR"] = cache
        } else {
            command.arguments.insert("--no-cache", at: 0)
        }
        return command
    }

    /// Where the output of command `index` of `step` is kept.
    public static func logPath(_ step: Step, index: Int, in directory: String) -> String {
        "\(directory)/backup-\(step.rawValue)-\(index).log"
    }

    /// Where restic's and psql's output of a restore are kept.
    public static func restoreLogPaths(in directory: String) -> [String] {
        ["\(directory)/restore-restic.log", "\(directory)/restore-psql.log"]
    }

    /// Where `restic snapshots`' output is kept.
    public static func listLogPath(in directory: String) -> String { "\(directory)/list-snapshots.log" }

    /// The snapshot id from `restic backup --json`'s summary line.
    public static func snapshotId(inBackupOutput output: String) -> String? {
        guard let range = output.ranges(of: "\"snapshot_id\":\"").last else { return nil }
        let id = output[range.upperBound...].prefix { $0 != "\"" }
        return id.isEmpty ? nil : String(id)
    }
}
