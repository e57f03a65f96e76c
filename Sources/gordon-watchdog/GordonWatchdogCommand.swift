import ArgumentParser
import GordonCommandLine
import GordonLogging
import GordonWatchdog
import GordonProcess
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordon-watchdog: the one process systemd starts on the device (DESIGN §6). It migrates
/// the database, then runs every service as its own user, restarts them, stops them in
/// reverse order, and backs up the trading schema with restic.
///
/// Deliberately synchronous and single-threaded: signals are blocked before any thread
/// could exist and taken with sigtimedwait, so none can be delivered anywhere else.
@main
struct GordonWatchdogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-watchdog",
        abstract: "Migrate, supervise and back up Gordon's services.",
        subcommands: [Run.self, CheckConfig.self, Backup.self, Snapshots.self, Restore.self],
        defaultSubcommand: Run.self
    )

    static func main() {
        CommandLineEntry.mainSynchronously(GordonWatchdogCommand.self, failureStatus: 1)
    }
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The watchdog's JSON configuration.")
    var config = "/etc/gordon/watchdog.json"

    func load() throws -> WatchdogConfiguration {
        guard let text = readTextFile(config) else {
            throw ValidationError("cannot read --config \(config): \(String(cString: strerror(errno)))")
        }
        do {
            return try WatchdogConfiguration.parse(text)
        } catch {
            throw ValidationError("\(config): \(error)")
        }
    }
}

func makeLogger() -> Logger {
    ProcessLogging.bootstrap(service: "gordon-watchdog")
    return Logger(label: "gordon.watchdog")
}

/// Every user the configuration names must exist before anything starts.
func checkUsers(_ configuration: WatchdogConfiguration) throws {
    let commands = [configuration.migrate] + configuration.services
        + (configuration.backup.map { [$0.pgDump, $0.psql, $0.restic] } ?? [])
    for command in commands {
        guard let user = command.user else { continue }
        do {
            let account = try UnixUser.lookup(user)
            if getuid() != 0, account.uid != getuid() {
                throw ValidationError("\(command.name) runs as \(user): the watchdog must run as root")
            }
        } catch let error as LaunchError {
            throw ValidationError("\(command.name): \(error.message)")
        }
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the watchdog until SIGTERM (the default); SIGHUP reloads the services from the configuration.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration = try options.load()
        try checkUsers(configuration)
        let options = options
        let code = WatchdogRunner(configuration: configuration, logger: makeLogger(), reload: {
            let fresh = try options.load()
            try checkUsers(fresh)
            return fresh
        }).run()
        if code != 0 { throw ExitCode(code) }
    }
}

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Validate the configuration and exit.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration = try options.load()
        try checkUsers(configuration)
        let services = configuration.services.isEmpty ? "no services yet" : configuration.services.map(\.name).joined(separator: ", ")
        print("ok: migrate, then \(services)"
              + (configuration.backup == nil ? "; no backups" : "; backups every \(Int(configuration.backup!.intervalSeconds)) s"))
    }
}

func backupPlan(_ configuration: WatchdogConfiguration) throws -> BackupPlan {
    guard let backup = configuration.backup else { throw ValidationError("the configuration has no \"backup\" section") }
    return BackupPlan(backup)
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Back up the trading schema now, apply retention and check the repository.")
    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration = try options.load()
        try checkUsers(configuration)
        let outcome = OneShotBackup.backup(try backupPlan(configuration), logDirectory: configuration.statusDirectory)
        guard outcome.succeeded else {
            throw ValidationError("backup failed at \(outcome.failedStep!.rawValue): \(outcome.detail ?? "")")
        }
        print("backup ok: snapshot \(outcome.snapshotId ?? "?")")
    }
}

struct Snapshots: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the trading-schema snapshots in the repository (restic's JSON).")
    @OptionGroup var options: ConfigOption

    func run() throws {
        let configuration = try options.load()
        try checkUsers(configuration)
        let pid = try ProcessLauncher.spawn(try backupPlan(configuration).listSnapshots)
        let status = ProcessLauncher.waitForExit(pid)
        guard status.succeeded else { throw ValidationError("restic snapshots: \(status)") }
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Replace the trading schema with a snapshot's and close the halt latch (stop the services first).",
        discussion: "Runs `restic dump SNAPSHOT \(BackupPlan.dumpFileName) | psql --single-transaction`: the dump drops and recreates the trading schema, and nothing changes if any statement fails.")
    @OptionGroup var options: ConfigOption
    @Option(help: "A snapshot id, or latest.") var snapshot = "latest"
    @Flag(help: "Confirm that the current trading schema is to be replaced.") var replaceTradingSchema = false

    func run() throws {
        guard replaceTradingSchema else {
            throw ValidationError("restore replaces every table of the trading schema: pass --replace-trading-schema to confirm")
        }
        let configuration = try options.load()
        try checkUsers(configuration)
        do {
            // Whoever ran it over sudo is named in the audit log beside the closed halt latch.
            let requester = getenv("SUDO_USER").map { "operator:\(String(cString: $0))" } ?? "gordon-watchdog restore (uid \(getuid()))"
            try OneShotBackup.restore(try backupPlan(configuration), snapshot: snapshot, requestedBy: requester,
                                      logDirectory: configuration.statusDirectory)
        } catch let error as LaunchError {
            throw ValidationError(error.message)
        }
        print("restored snapshot \(snapshot) into the trading schema; the halt latch is closed until an operator resumes")
    }
}
