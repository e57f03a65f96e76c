import ArgumentParser
import GordonCommandLine
import GordonLogging
import GordonKernel
import GordonMigrations
import GordonPostgres
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// gordon-migrate: the sole owner of `migrations/` (DESIGN §3, §5).
///
/// Exit status is 0 on success and 1 on any failure, with one line on stderr that says
/// what failed; the watchdog starts no service until this exits 0.
@main
struct GordonMigrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-migrate",
        abstract: "Apply Gordon's database migrations, show their status, set role passwords, or add a bot's role.",
        subcommands: [Up.self, Status.self, SetPassword.self, SetPasswords.self, AddBot.self],
        defaultSubcommand: Up.self
    )

    static func main() async {
        // Progress goes to stdout as plain lines; the library's log lines only for problems.
        ProcessLogging.bootstrap(service: "gordon-migrate", level: .warning)
        await CommandLineEntry.main(GordonMigrate.self, failureStatus: 1)
    }
}

struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (default: $GORDON_DATABASE_URL)")
    var databaseURL: String?

    @Option(name: .customLong("migrations"), help: "Directory of NNNN_name.sql files (default: $GORDON_MIGRATIONS_DIR or ./migrations)")
    var migrationsDirectory: String?

    func url() throws(GordonError) -> DatabaseURL {
        guard let text = databaseURL ?? ProcessEnvironment.variable("GORDON_DATABASE_URL"), !text.isEmpty else {
            throw GordonError(.invalidDatabaseURL, "no database URL: pass --database-url or set GORDON_DATABASE_URL")
        }
        return try DatabaseURL(parsing: text)
    }

    func directory() throws(GordonError) -> MigrationDirectory {
        try MigrationDirectory(path: migrationsDirectory ?? ProcessEnvironment.variable("GORDON_MIGRATIONS_DIR") ?? "migrations")
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Apply every pending migration, one transaction per file (the default).")

    @OptionGroup var options: DatabaseOptions

    @Option(help: "Seconds to wait for another gordon-migrate to finish.")
    var lockTimeout: Int = 300

    @Flag(help: "Accept a database already migrated past this directory (a release rolled back on the device): nothing newer is undone.")
    var databaseMayBeAhead = false

    func run() async throws {
        let directory = try options.directory()
        let url = try options.url()
        let logger = Logger(label: "gordon-migrate")
        let migrator = Migrator(directory: directory, logger: logger, lockTimeoutSeconds: lockTimeout, databaseMayBeAhead: databaseMayBeAhead)
        let report = try await Database.withConnection(url, logger: logger) { connection in
            try await migrator.migrate(on: connection) { file, milliseconds in
                print("applied \(file) (\(milliseconds) ms)")
            }
        }
        if report.applied.isEmpty {
            print("schema is up to date at version \(report.latestVersion)")
        } else {
            print("schema is at version \(report.latestVersion) (\(report.applied.count) applied)")
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List applied and pending migrations; exits 0 even when some are pending.")

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let directory = try options.directory()
        let url = try options.url()
        let logger = Logger(label: "gordon-migrate")
        let plan = try await Database.withConnection(url, logger: logger) { connection in
            try await Migrator(directory: directory, logger: logger).status(on: connection)
        }
        print("VERSION  STATE    FILE")
        for record in plan.applied {
            let file = directory.files.first { $0.version == record.version }?.fileName ?? record.name
            print("\(pad(record.version))     applied  \(file)")
        }
        for file in plan.pending {
            print("\(pad(file.version))     pending  \(file.fileName)")
        }
        print("\(plan.applied.count) applied, \(plan.pending.count) pending")
    }

    private func pad(_ version: Int) -> String {
        let digits = String(version)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}

struct SetPassword: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-password",
        abstract: "Set a role's login password from the postgres_password entry of a keyfile.",
        discussion: "Only a SCRAM-SHA-256 verifier is sent to the server, never the password itself.")

    @OptionGroup var options: DatabaseOptions

    @Option(help: "One of: \(DatabaseRole.allCases.map(\.rawValue).joined(separator: ", ")).")
    var role: String

    @Option(help: "Keyfile (mode 0400 or 0600) holding a postgres_password entry.")
    var keyfile: String

    func run() async throws {
        guard let databaseRole = DatabaseRole(rawValue: role) else {
            throw GordonError(
                .unknownRole, "unknown role '\(role)'; expected one of \(DatabaseRole.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let password = try Keyfile.load(path: keyfile).secret(Keyfile.postgresPassword)
        let url = try options.url()
        let logger = Logger(label: "gordon-migrate")
        try await Database.withConnection(url, logger: logger) { connection in
            try await RolePassword.set(role: databaseRole, password: password, on: connection)
        }
        print("password set for \(databaseRole.rawValue)")
    }
}

/// The device's step after `up`: every service role gets the password in its service's
/// keyfile slot, so filling a slot is all an operator does for a service to log in.
struct SetPasswords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-passwords",
        abstract: "Set every service role's password from its service's keyfile in a directory.",
        discussion: """
            Reads DIR/<service>.key for each role that belongs to a service (gordon_bot from \
            gordon-bot.key, and so on). An empty or absent slot is skipped and said so: that \
            service cannot log in until the operator fills it. A slot that is unreadable, \
            readable by others or without a postgres_password entry fails the command.
            """)

    @OptionGroup var options: DatabaseOptions

    @Option(help: "Directory of <service>.key files (on the device: /etc/gordon/keys).")
    var keys: String

    func run() async throws {
        let url = try options.url()
        var assignments: [(role: DatabaseRole, path: String, password: Secret)] = []
        for role in DatabaseRole.allCases {
            guard let service = role.service else { continue }
            let path = "\(keys)/\(service).key"
            var info = stat()
            guard stat(path, &info) == 0 else {
                print("no password for \(role.rawValue): \(path) does not exist")
                continue
            }
            guard info.st_size > 0 else {
                print("no password for \(role.rawValue): \(path) is empty")
                continue
            }
            // Every slot is read before any password changes, so a bad one changes nothing.
            assignments.append((role, path, try Keyfile.load(path: path).secret(Keyfile.postgresPassword)))
        }
        let logger = Logger(label: "gordon-migrate")
        try await Database.withConnection(url, logger: logger) { connection in
            for assignment in assignments {
                try await RolePassword.set(role: assignment.role, password: assignment.password, on: connection)
                print("password set for \(assignment.role.rawValue) from \(assignment.path)")
            }
        }
    }
}

/// A bot's own login role, so PostgreSQL keeps it to its own rows (migration 0011).
struct AddBot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add-bot",
        abstract: "Create (or update) a bot's login role gordon_bot_<bot> with the password from its keyfile slot.",
        discussion: """
            The role is a member of gordon_bot and is recorded in trading.bot_roles, which the \
            row-level policies read. Repeating the command only sets the password again.
            """)

    @OptionGroup var options: DatabaseOptions

    @Option(help: "The bot's id, as in trading.bot_configs.")
    var bot: String

    @Option(help: "The bot's keyfile (mode 0400 or 0600) holding a postgres_password entry, e.g. gordon-bot-<bot>.key.")
    var keyfile: String

    func validate() throws {
        do { _ = try BotRole.roleName(for: bot) } catch { throw ValidationError("--bot: \(error.message)") }
    }

    func run() async throws {
        let password = try Keyfile.load(path: keyfile).secret(Keyfile.postgresPassword)
        let url = try options.url()
        let logger = Logger(label: "gordon-migrate")
        let role = try await Database.withConnection(url, logger: logger) { connection in
            try await BotRole.ensure(botId: bot, password: password, on: connection, logger: logger)
        }
        print("role \(role) ready for bot \(bot)")
    }
}
