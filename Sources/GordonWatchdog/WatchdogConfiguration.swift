import FoundationEssentials
public import GordonKernel
public import GordonProcess

/// Everything `gordon-watchdog` does, from one JSON file (DESIGN §6): the migrator it runs
/// first, the services it then starts in order, how it restarts them, and the backups.
public struct WatchdogConfiguration: Codable, Sendable, Equatable {
    /// Where the watchdog keeps its status document, rewritten on every change.
    public var statusFile: String
    /// How long a service has between SIGTERM and SIGKILL when the watchdog stops.
    public var stopGraceSeconds: Double
    public var restart: RestartPolicy
    /// Runs to completion before anything else; no service starts until it exits 0.
    public var migrate: Command
    /// Started in this order once the migration succeeded, stopped in the reverse order.
    /// May be empty: an image whose services have not landed yet still migrates and backs up.
    public var services: [Command]
    /// Services added on the device without touching this file (a bot and its relay): each
    /// `*.json` file here holds a JSON array of commands, appended after `services` in
    /// file-name order when the configuration is loaded (and again on SIGHUP).
    public var serviceDirectory: String?
    public var backup: BackupConfiguration?

    public init(statusFile: String, stopGraceSeconds: Double = 10, restart: RestartPolicy = RestartPolicy(),
                migrate: Command, services: [Command], backup: BackupConfiguration? = nil) {
        self.statusFile = statusFile
        self.stopGraceSeconds = stopGraceSeconds
        self.restart = restart
        self.migrate = migrate
        self.services = services
        self.backup = backup
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        statusFile = try container.decode(String.self, forKey: .statusFile)
        stopGraceSeconds = try container.decodeIfPresent(Double.self, forKey: .stopGraceSeconds) ?? 10
        restart = try container.decodeIfPresent(RestartPolicy.self, forKey: .restart) ?? RestartPolicy()
        migrate = try container.decode(Command.self, forKey: .migrate)
        services = try container.decode([Command].self, forKey: .services)
        serviceDirectory = try container.decodeIfPresent(String.self, forKey: .serviceDirectory)
        backup = try container.decodeIfPresent(BackupConfiguration.self, forKey: .backup)
    }

    /// A program to run (GordonProcess's command: path, arguments, environment, user).
    public typealias Command = ProcessCommand

    /// Restarts back off exponentially; a service that crashes `crashLoopLimit` times within
    /// `crashLoopWindowSeconds` is left down and reported, rather than hammering the
    /// exchange or the database in a loop.
    public struct RestartPolicy: Codable, Sendable, Equatable {
        public var initialBackoffSeconds: Double
        public var maximumBackoffSeconds: Double
        public var crashLoopLimit: Int
        public var crashLoopWindowSeconds: Double
        /// A service that ran this long before exiting starts again from the initial backoff.
        public var healthyAfterSeconds: Double

        public init(initialBackoffSeconds: Double = 1, maximumBackoffSeconds: Double = 60, crashLoopLimit: Int = 5,
                    crashLoopWindowSeconds: Double = 600, healthyAfterSeconds: Double = 60) {
            self.initialBackoffSeconds = initialBackoffSeconds
            self.maximumBackoffSeconds = maximumBackoffSeconds
            self.crashLoopLimit = crashLoopLimit
            self.crashLoopWindowSeconds = crashLoopWindowSeconds
            self.healthyAfterSeconds = healthyAfterSeconds
        }
    }

    /// Scheduled restic backups of the `trading` schema.
    public struct BackupConfiguration: Codable, Sendable, Equatable {
        public var intervalSeconds: Double
        /// The first backup runs this long after the services came up.
        public var firstAfterSeconds: Double
        /// `pg_dump` with its connection arguments; the watchdog adds the schema and format.
        public var pgDump: Command
        /// `psql` with its connection arguments, for `gordon-watchdog restore`.
        public var psql: Command
        /// `restic`; `RESTIC_REPOSITORY`, `RESTIC_PASSWORD_FILE` and the cache directory are
        /// set from the fields below, never the password itself.
        public var restic: Command
        public var repository: String
        public var passwordFile: String
        public var cacheDirectory: String?
        public var keepDaily: Int
        public var keepWeekly: Int
        public var keepMonthly: Int
        /// Create the repository when it does not exist yet (a local disk or a fresh sftp path).
        public var initializeRepository: Bool
        /// A file whose appearance asks for a backup now: gordon-manager writes it for
        /// `gordonctl backup now`, with who asked. The watchdog takes it (removes it) when it
        /// starts that backup.
        public var requestFile: String?
        /// How ssh reaches the backup host of an `sftp:` repository: its own key and the
        /// host's key pinned (required for one).
        public var sftp: SFTP?
        /// A file of `name = value` lines (the device's gordon.conf): its `backup_repository`,
        /// when set, replaces `repository`, so the backup host is the device's setting.
        public var settingsFile: String?

        public init(intervalSeconds: Double = 86_400, firstAfterSeconds: Double = 600, pgDump: Command, psql: Command,
                    restic: Command, repository: String, passwordFile: String, cacheDirectory: String? = nil,
                    keepDaily: Int = 7, keepWeekly: Int = 5, keepMonthly: Int = 12, initializeRepository: Bool = true,
                    requestFile: String? = nil, sftp: SFTP? = nil) {
            self.intervalSeconds = intervalSeconds
            self.firstAfterSeconds = firstAfterSeconds
            self.pgDump = pgDump
            self.psql = psql
            self.restic = restic
            self.repository = repository
            self.passwordFile = passwordFile
            self.cacheDirectory = cacheDirectory
            self.keepDaily = keepDaily
            self.keepWeekly = keepWeekly
            self.keepMonthly = keepMonthly
            self.initializeRepository = initializeRepository
            self.requestFile = requestFile
            self.sftp = sftp
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            intervalSeconds = try container.decodeIfPresent(Double.self, forKey: .intervalSeconds) ?? 86_400
            firstAfterSeconds = try container.decodeIfPresent(Double.self, forKey: .firstAfterSeconds) ?? 600
            pgDump = try container.decode(Command.self, forKey: .pgDump)
            psql = try container.decode(Command.self, forKey: .psql)
            restic = try container.decode(Command.self, forKey: .restic)
            repository = try container.decode(String.self, forKey: .repository)
            passwordFile = try container.decode(String.self, forKey: .passwordFile)
            cacheDirectory = try container.decodeIfPresent(String.self, forKey: .cacheDirectory)
            keepDaily = try container.decodeIfPresent(Int.self, forKey: .keepDaily) ?? 7
            keepWeekly = try container.decodeIfPresent(Int.self, forKey: .keepWeekly) ?? 5
            keepMonthly = try container.decodeIfPresent(Int.self, forKey: .keepMonthly) ?? 12
            initializeRepository = try container.decodeIfPresent(Bool.self, forKey: .initializeRepository) ?? true
            requestFile = try container.decodeIfPresent(String.self, forKey: .requestFile)
            sftp = try container.decodeIfPresent(SFTP.self, forKey: .sftp)
            settingsFile = try container.decodeIfPresent(String.self, forKey: .settingsFile)
        }
    }

    /// ssh for restic's sftp backend: batch mode, no configuration files, one key, and the
    /// backup host's key taken only from `knownHostsFile` (a host presenting another key is
    /// refused, never learned).
    public struct SFTP: Codable, Sendable, Equatable {
        public var ssh: String
        /// The private key (mode 0400, owned by restic's user).
        public var identityFile: String
        /// The backup host's public key, as `ssh-keyscan` prints it (`[host]:port` for a port
        /// other than 22), checked by the operator before it is written here.
        public var knownHostsFile: String
        public var connectTimeoutSeconds: Int

        public init(ssh: String = "/usr/bin/ssh", identityFile: String, knownHostsFile: String, connectTimeoutSeconds: Int = 30) {
            self.ssh = ssh
            self.identityFile = identityFile
            self.knownHostsFile = knownHostsFile
            self.connectTimeoutSeconds = connectTimeoutSeconds
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            ssh = try container.decodeIfPresent(String.self, forKey: .ssh) ?? "/usr/bin/ssh"
            identityFile = try container.decode(String.self, forKey: .identityFile)
            knownHostsFile = try container.decode(String.self, forKey: .knownHostsFile)
            connectTimeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .connectTimeoutSeconds) ?? 30
        }

        /// restic's `sftp.command` for `repository`: ssh logs in and asks for the sftp subsystem.
        public func command(for repository: SFTPRepository) -> String {
            var words = [ssh, "-F", "none", "-i", identityFile, "-o", "IdentitiesOnly=yes", "-o", "UserKnownHostsFile=\(knownHostsFile)",
                         "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes",
                         "-o", "ConnectTimeout=\(connectTimeoutSeconds)", "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4"]
            if let port = repository.port { words += ["-p", "\(port)"] }
            return (words + ["\(repository.user)@\(repository.host)", "-s", "sftp"]).joined(separator: " ")
        }
    }
}

/// A restic sftp repository: `sftp:user@host:/path` or `sftp://user@host:port//path`.
public struct SFTPRepository: Sendable, Equatable {
    public var user: String
    public var host: String
    public var port: Int?
    public var path: String

    /// nil for a repository that is not sftp; throws for an sftp one without a user, host or path.
    public init?(_ repository: String) throws(WatchdogConfigurationError) {
        let rest: Substring
        var port: Int?
        let hostAndPath: (Substring, Substring)
        if repository.hasPrefix("sftp://") {
            rest = repository.dropFirst("sftp://".count)
            guard let slash = rest.firstIndex(of: "/") else { throw Self.malformed(repository) }
            var authority = rest[..<slash]
            if let colon = authority.lastIndex(of: ":") {
                guard let number = Int(authority[authority.index(after: colon)...]), (1...65_535).contains(number) else {
                    throw Self.malformed(repository)
                }
                port = number
                authority = authority[..<colon]
            }
            hostAndPath = (authority, rest[rest.index(after: slash)...])
        } else if repository.hasPrefix("sftp:") {
            rest = repository.dropFirst("sftp:".count)
            guard let colon = rest.firstIndex(of: ":") else { throw Self.malformed(repository) }
            hostAndPath = (rest[..<colon], rest[rest.index(after: colon)...])
        } else {
            return nil
        }
        let (authority, path) = hostAndPath
        guard let at = authority.firstIndex(of: "@") else { throw Self.malformed(repository) }
        user = String(authority[..<at])
        host = String(authority[authority.index(after: at)...])
        self.port = port
        self.path = String(path)
        let allowed: (Character) -> Bool = { $0.isLetter || $0.isNumber || "-._".contains($0) }
        guard !user.isEmpty, !host.isEmpty, !self.path.isEmpty, user.allSatisfy(allowed), host.allSatisfy({ allowed($0) || $0 == ":" }),
              !user.hasPrefix("-"), !host.hasPrefix("-") else {
            throw Self.malformed(repository)
        }
    }

    private static func malformed(_ repository: String) -> WatchdogConfigurationError {
        WatchdogConfigurationError("backup: \"\(repository)\" is not an sftp repository restic takes (sftp:USER@HOST:/PATH or sftp://USER@HOST:PORT//PATH)")
    }
}

extension WatchdogConfiguration {
    /// The status file's directory: the migrator's and the backups' logs go beside it.
    public var statusDirectory: String {
        String(statusFile.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
    }

    /// Parses and validates `text`; every problem is named in one line. The services of
    /// `serviceDirectory`, when there is one, are read and appended before validating.
    public static func parse(_ text: String) throws(WatchdogConfigurationError) -> WatchdogConfiguration {
        var configuration = try decode(WatchdogConfiguration.self, text)
        if let directory = configuration.serviceDirectory {
            configuration.services += try services(in: directory)
        }
        if let settings = configuration.backup?.settingsFile, let repository = try setting("backup_repository", in: settings) {
            configuration.backup?.repository = repository
        }
        try configuration.validate()
        return configuration
    }

    /// The commands of every `*.json` file in `directory`, in file-name order. A directory
    /// that does not exist holds none (no bot added yet).
    static func services(in directory: String) throws(WatchdogConfigurationError) -> [Command] {
        guard directory.hasPrefix("/") else { throw WatchdogConfigurationError("serviceDirectory must be an absolute path") }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            guard FileManager.default.fileExists(atPath: directory) else { return [] }
            throw WatchdogConfigurationError("cannot list serviceDirectory \(directory): \(error)")
        }
        var commands: [Command] = []
        for name in names.filter({ $0.hasSuffix(".json") && !$0.hasPrefix(".") }).sorted() {
            let path = directory + "/" + name
            guard let text = readTextFile(path) else { throw WatchdogConfigurationError("cannot read \(path)") }
            do {
                commands += try decode([Command].self, text)
            } catch {
                throw WatchdogConfigurationError("\(path): \(error.message)")
            }
        }
        return commands
    }

    /// The value of `name = value` in the settings file at `path` (`#` starts a comment);
    /// nil when the file or the line is absent, or the value empty.
    static func setting(_ name: String, in path: String) throws(WatchdogConfigurationError) -> String? {
        guard path.hasPrefix("/") else { throw WatchdogConfigurationError("backup: settingsFile must be an absolute path") }
        guard let text = readTextFile(path) else {
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            throw WatchdogConfigurationError("cannot read \(path)")
        }
        var value: String?
        for line in text.split(separator: "\n") {
            let content = line.prefix { $0 != "#" }
            guard let equals = content.firstIndex(of: "="), content[..<equals].trimmingWhitespace() == name else { continue }
            value = String(content[content.index(after: equals)...].trimmingWhitespace())
        }
        return value?.isEmpty == false ? value : nil
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws(WatchdogConfigurationError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch let DecodingError.keyNotFound(key, context) {
            throw WatchdogConfigurationError("missing \"\(Self.path(context.codingPath + [key]))\"")
        } catch let DecodingError.typeMismatch(_, context) {
            throw WatchdogConfigurationError("\"\(Self.path(context.codingPath))\" has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.valueNotFound(_, context) {
            throw WatchdogConfigurationError("\"\(Self.path(context.codingPath))\" is null")
        } catch {
            throw WatchdogConfigurationError("not valid JSON: \(error)")
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    public func validate() throws(WatchdogConfigurationError) {
        guard statusFile.hasPrefix("/") else { throw WatchdogConfigurationError("statusFile must be an absolute path") }
        guard stopGraceSeconds > 0 else { throw WatchdogConfigurationError("stopGraceSeconds must be positive") }
        guard restart.initialBackoffSeconds > 0, restart.maximumBackoffSeconds >= restart.initialBackoffSeconds else {
            throw WatchdogConfigurationError("restart: initialBackoffSeconds must be positive and at most maximumBackoffSeconds")
        }
        guard restart.crashLoopLimit >= 1, restart.crashLoopWindowSeconds > 0, restart.healthyAfterSeconds > 0 else {
            throw WatchdogConfigurationError("restart: crashLoopLimit, crashLoopWindowSeconds and healthyAfterSeconds must be positive")
        }
        var names: Set<String> = []
        for command in [migrate] + services + (backup.map { [$0.pgDump, $0.psql, $0.restic] } ?? []) {
            guard !command.name.isEmpty, command.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
                throw WatchdogConfigurationError("command name \"\(command.name)\" must be letters, digits, - or _")
            }
            guard command.executable.hasPrefix("/") else {
                throw WatchdogConfigurationError("\(command.name): executable must be an absolute path, not \"\(command.executable)\"")
            }
            if let logFile = command.logFile, !logFile.hasPrefix("/") {
                throw WatchdogConfigurationError("\(command.name): logFile must be an absolute path, not \"\(logFile)\"")
            }
        }
        for service in [migrate] + services {
            guard names.insert(service.name).inserted else { throw WatchdogConfigurationError("two commands are named \"\(service.name)\"") }
        }
        if let serviceDirectory, !serviceDirectory.hasPrefix("/") {
            throw WatchdogConfigurationError("serviceDirectory must be an absolute path")
        }
        if let backup {
            guard backup.intervalSeconds >= 60, backup.firstAfterSeconds >= 0 else {
                throw WatchdogConfigurationError("backup: intervalSeconds must be at least 60 and firstAfterSeconds not negative")
            }
            guard backup.keepDaily >= 0, backup.keepWeekly >= 0, backup.keepMonthly >= 0,
                  backup.keepDaily + backup.keepWeekly + backup.keepMonthly > 0 else {
                throw WatchdogConfigurationError("backup: keepDaily, keepWeekly and keepMonthly must keep at least one snapshot")
            }
            guard backup.passwordFile.hasPrefix("/") else { throw WatchdogConfigurationError("backup: passwordFile must be an absolute path") }
            guard !backup.repository.isEmpty else { throw WatchdogConfigurationError("backup: repository is empty") }
            if try SFTPRepository(backup.repository) != nil {
                guard let sftp = backup.sftp else {
                    throw WatchdogConfigurationError("backup: an sftp repository needs \"sftp\" with identityFile and knownHostsFile (the backup host's key, pinned)")
                }
                for (field, path) in [("ssh", sftp.ssh), ("identityFile", sftp.identityFile), ("knownHostsFile", sftp.knownHostsFile)] {
                    guard path.hasPrefix("/"), !path.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "'" || $0 == "\\" }) else {
                        throw WatchdogConfigurationError("backup: sftp.\(field) must be an absolute path without spaces or quotes, not \"\(path)\"")
                    }
                }
                guard (1...600).contains(sftp.connectTimeoutSeconds) else {
                    throw WatchdogConfigurationError("backup: sftp.connectTimeoutSeconds must be between 1 and 600")
                }
            }
        }
    }
}

public struct WatchdogConfigurationError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid watchdog configuration: \(message)" }
}

extension WatchdogConfiguration.Command {
    /// A service as the watchdog starts it: its executable under `executableDirectory`, run
    /// as its own user (both from `ServiceIdentity`, so the configuration cannot disagree
    /// with the keyfile slots, roles and NATS users made for the same names).
    public static func service(_ identity: ServiceIdentity, executableDirectory: String = "/usr/lib/gordon",
                               arguments: [String] = [], environment: [String: String] = [:]) -> Self {
        Self(name: identity.name, executable: "\(executableDirectory)/\(identity.name)", arguments: arguments,
             environment: environment, user: identity.unixUser)
    }
}
