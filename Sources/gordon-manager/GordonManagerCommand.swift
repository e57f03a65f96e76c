#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonCommandLine
import GordonLogging
import GordonPostgres
import GordonKernel
import GordonManager
import GordonPlatform
import Hummingbird
import Logging
import ServiceLifecycle

/// gordon-manager: the control plane. Serves the operators' API (`/api/v1`) on a Unix domain
/// socket that only root and the operators' group can open, and knows each caller by the
/// socket's peer credentials; with `--console-port`, the same API on loopback for the console,
/// which must present its credential. Halts, resumes, flattens and bot pauses are filed for
/// gordon-risk to carry out and audit. `/api/v1/events` is a WebSocket of live events, fed by
/// the manager's one read-only JetStream consumer. Its service port serves only `/healthz`,
/// `/readyz` and `/metrics`.
@main
struct GordonManagerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-manager",
        abstract: "The control plane: the operators' API, live events, backtests.",
        subcommands: [Serve.self, BacktestRun.self],
        defaultSubcommand: Serve.self)

    static func main() async {
        await CommandLineEntry.main(GordonManagerCommand.self, failureStatus: 1)
    }
}

/// The manager itself (the default: `gordon-manager --socket …`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the operators' API on a Unix socket: status, bots, orders, fills, positions, halt, resume, flatten, backtests.")

    @OptionGroup var service: ServiceOptions

    @Option(help: "The API's Unix domain socket (mode 0660, group --operators-group)")
    var socket = "/run/gordon-manager/manager.sock"

    @Option(help: "The group whose members (and root) may call the API")
    var operatorsGroup = "gordon-ops"

    @Option(help: "Users, for the callers' names and groups")
    var passwdFile = "/etc/passwd"

    @Option(help: "Groups, for the operators' group")
    var groupFile = "/etc/group"

    @Option(help: "A service whose /readyz the status shows, as NAME=URL (repeatable)")
    var probe: [String] = []

    @Option(help: "The watchdog's status document, shown in the status")
    var watchdogStatus: String?

    @Option(help: "The file that hands the watchdog an operator's backup, snapshot list or restore (its backup.requestFile)")
    var backupRequest: String?

    @Option(help: "Where uploaded kline files wait for gordon-data's import (its --import-directory); none: imports are refused")
    var importDirectory: String?

    @Option(help: "Seconds to wait for gordon-risk to carry out a halt, resume, flatten or pause")
    var requestTimeoutSeconds = 10

    @Option(help: "Serve the API to the console on 127.0.0.1:PORT (0: any free port); the keyfile must hold console_token_sha256")
    var consolePort: Int?

    @Option(help: "Live events queued for one WebSocket client before it is dropped as too slow")
    var liveQueue = 256

    func probes() throws -> [(name: String, url: String)] {
        try probe.map { text in
            let parts = text.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].hasPrefix("http://") else {
                throw ValidationError("--probe must be NAME=http://HOST:PORT, not '\(text)'")
            }
            return (String(parts[0]), String(parts[1]))
        }
    }

    func validate() throws {
        _ = try probes()
        guard socket.hasPrefix("/"), socket.utf8.count < 100 else { throw ValidationError("--socket must be an absolute path under 100 bytes") }
        guard (1...300).contains(requestTimeoutSeconds) else { throw ValidationError("--request-timeout-seconds must be 1-300") }
        if let consolePort, !(0...65535).contains(consolePort) { throw ValidationError("--console-port must be 0-65535") }
        guard (1...100_000).contains(liveQueue) else { throw ValidationError("--live-queue must be 1-100000") }
    }

    func run() async throws {
        let identity = ServiceIdentity.manager
        var configuration = ManagerAPI.Configuration()
        configuration.operatorsGroup = operatorsGroup
        configuration.passwdFile = passwdFile
        configuration.groupFile = groupFile
        configuration.services = try probes()
        configuration.watchdogStatusFile = watchdogStatus
        configuration.backupRequestFile = backupRequest
        configuration.importDirectory = importDirectory
        configuration.requestTimeout = .seconds(requestTimeoutSeconds)
        let socket = socket
        let consolePort = consolePort
        let liveQueue = liveQueue
        let serviceConfiguration = try service.configuration(identity, defaultPort: 8083)
        let worker = BacktestRuns.Worker(executable: Self.ownExecutable(), arguments: [
            "backtest-run", "--database-url", serviceConfiguration.databaseURL.description, "--keyfile", serviceConfiguration.keyfilePath,
        ])
        await GordonService.main(identity, configuration: { serviceConfiguration }) { context in
            let socketGroup = try OperatorSocket.groupId(of: configuration.operatorsGroup, groupFile: configuration.groupFile)
            var configuration = configuration
            if consolePort != nil {
                configuration.consoleCredential = try ConsoleCredential(hexDigest: try context.keyfile.secret(Keyfile.consoleTokenSHA256))
            }
            let backtests = BacktestRuns(worker: worker, database: context.database, logger: context.logger)
            let api = ManagerAPI(configuration: configuration, database: context.database, logger: context.logger, backtests: backtests)
            let fanOut = EventFanOut(capacity: liveQueue)
            let feed = LiveEventFeed(jetStream: context.jetStream, database: context.database, fanOut: fanOut, logger: context.logger)
            Self.exportMetrics(context.metrics, fanOut: fanOut, feed: feed)
            if let path = configuration.watchdogStatusFile { Self.exportWatchdogMetrics(context.metrics, statusFile: path) }
            let router = ServiceHTTP.makeRouter(metrics: context.metrics, readiness: nil)
            api.addRoutes(to: router)
            try OperatorSocket.removeStale(socket)
            let logger = context.logger
            var services: [any Service] = [LiveFeedService(feed: feed), BacktestRecovery(backtests: backtests)]
            services.append(Application(
                router: router,
                server: api.server(fanOut: fanOut, feed: feed),
                configuration: .init(address: .unixDomainSocket(path: socket), serverName: identity.name),
                onServerRunning: { _ in
                    do {
                        try OperatorSocket.restrict(socket, group: socketGroup)
                        GordonService.announce("gordon-manager API on unix:\(socket)")
                    } catch {
                        logger.critical("cannot restrict the API socket; removing it", metadata: ["socket": "\(socket)", "error": "\(error)"])
                        unlink(socket)
                    }
                },
                logger: logger))
            if let consolePort {
                services.append(Application(
                    router: router,
                    server: api.server(fanOut: fanOut, feed: feed),
                    configuration: .init(address: .hostname("127.0.0.1", port: consolePort), serverName: identity.name),
                    onServerRunning: { channel in
                        GordonService.announce("gordon-manager console API on http://127.0.0.1:\(channel.localAddress?.port ?? consolePort)")
                    },
                    logger: logger))
            }
            return services
        }
    }

    static func exportMetrics(_ metrics: MetricsRegistry, fanOut: EventFanOut, feed: LiveEventFeed) {
        metrics.sampledGauge(name: "gordon_manager_live_subscribers", help: "WebSocket clients following live events") {
            Double(fanOut.subscriberCount)
        }
        metrics.sampledGauge(name: "gordon_manager_live_dropped", help: "Live-event clients dropped for reading too slowly") {
            Double(fanOut.droppedCount)
        }
        metrics.sampledGauge(name: "gordon_manager_live_forwarded", help: "Events passed on to live-event clients") {
            Double(feed.forwardedCount)
        }
        metrics.sampledGauge(name: "gordon_manager_live_malformed", help: "Events not passed on: not a Gordon event") {
            Double(feed.malformedCount)
        }
    }
}

extension Serve {
    /// The watchdog's status file, read at each scrape (a few kilobytes).
    static func exportWatchdogMetrics(_ metrics: MetricsRegistry, statusFile: String) {
        // One read of the file serves every family of a scrape.
        let samples = MetricsRegistry.readOncePerScrape { WatchdogMetrics.samples(statusFile: statusFile, now: Date.now.timeIntervalSince1970) }
        for family in WatchdogMetrics.families {
            metrics.sampledGauges(name: family.name, help: family.help) {
                await samples()
                    .filter { $0.name == family.name }
                    .map { (labels: $0.service.map { [("service", $0)] } ?? [], value: $0.value) }
            }
        }
    }

    /// This program's path, for the backtest workers it starts.
    static func ownExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Closes the backtests a stopped manager left running and starts the queued ones; when the
/// manager stops, puts the running one back in the queue (its worker is ended with it).
struct BacktestRecovery: Service {
    let backtests: BacktestRuns

    func run() async throws {
        await backtests.recover()
        try? await gracefulShutdown()
        await backtests.requeueRunning()
    }
}

/// `gordon-manager backtest-run`: one backtest, in a child process of the manager.
struct BacktestRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest-run", abstract: "Run one filed backtest (gordon-manager starts this itself).", shouldDisplay: false)

    @Option(help: "The run, from trading.runs") var runId: String
    @Option(help: "PostgreSQL URL without a password") var databaseURL: String
    @Option(help: "The manager's keyfile") var keyfile: String

    func run() async throws {
        guard let id = UUID(uuidString: runId) else { throw ValidationError("--run-id must be a UUID, not '\(runId)'") }
        let redactor = SecretRedactor()
        ProcessLogging.bootstrap(service: ServiceIdentity.manager.name, redactor: redactor)
        let logger = Logger(label: "gordon.gordon-manager.backtest")
        let keys = try Keyfile.load(path: keyfile)
        redactor.register(keys.values.map { $0.withPlainText { $0 } })
        let url = try DatabaseURL(parsing: databaseURL)
        let database = Database.makePool(url.with(username: url.username, password: try keys.secret(Keyfile.postgresPassword)), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            try await BacktestWorker.run(id, database: database, logger: logger)
        }
    }
}

/// The live-event feed, for as long as the manager runs.
struct LiveFeedService: Service {
    let feed: LiveEventFeed

    func run() async throws {
        await cancelWhenGracefulShutdown { await feed.run() }
    }
}
