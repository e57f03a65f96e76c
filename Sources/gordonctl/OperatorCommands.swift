#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonDomain
import GordonKernel
import GordonManager
import GordonStrategy

/// `gordonctl status`: one screen of the running system.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Services, the halt latch, breakers, bots, positions and the last backup, on one screen.")

    @OptionGroup var manager: ManagerOptions

    func run() async throws {
        let status = try await ManagerClient(socket: manager.socket).call(.GET, "status")
        if manager.json { print(status.json); return }
        let trading = status["trading"]
        let halt = trading?["halt"]
        let halted = halt?["halted"] == .bool(true)
        print("Trading:   \(halted ? "HALTED" : "running")  (\(halt?["reason"]?.text ?? ""); by \(halt?["changed_by"]?.text ?? "") at \(halt?["changed_at"]?.text ?? ""))")
        let tripped = trading?["risk"]?["tripped"]?.array.map(\.text) ?? []
        print("Breakers:  \(tripped.isEmpty ? "none tripped" : "tripped: " + tripped.joined(separator: ", "))")
        let equity = status["equity"]
        func figure(_ name: String, else missing: String) -> String {
            let value = equity?[name] ?? .null
            return value == .null ? missing : value.text
        }
        print("Equity:    \(figure("equity", else: "unknown (a held symbol has no price yet)"))"
            + "  peak \(figure("peak_equity", else: "-"))  day's opening \(figure("day_opening_equity", else: "-"))")
        print("Orders:    \(trading?["open_orders"]?.text ?? "?") open; \(trading?["pending_requests"]?.text ?? "?") operator requests pending")
        print("\nServices:")
        print(table([("SERVICE", "name"), ("READY", "ready"), ("DETAIL", "detail")], (status["services"]?.array ?? []).map { service in
            var fields: [String: JSONValue] = ["name": service["name"] ?? .null, "ready": service["ready"] ?? .null]
            let checks = service["readyz"]?["checks"]
            if case .object(let results)? = checks {
                let failing = results.keys.sorted().filter { results[$0]?.text != "ok" }.map { "\($0): \(results[$0]!.text)" }
                fields["detail"] = .string(failing.isEmpty ? "all checks ok" : failing.joined(separator: "; "))
            } else {
                fields["detail"] = service["error"] ?? .null
            }
            return .object(fields)
        }))
        print("\nBots:")
        print(BotsCommand.List.render(status["bots"]?.array ?? []))
        print("\nPositions:")
        print(PositionsCommand.render(status["positions"]?.array ?? []))
        let watchdog = status["watchdog"]
        if let backup = watchdog?["backup"] {
            print("\nBackup:    " + BackupCommand.summary(backup, now: Date.now.timeIntervalSince1970))
        } else if let watchdog, watchdog != .null {
            print("\nWatchdog:  \(watchdog["error"]?.text ?? watchdog["phase"]?.text ?? "")")
        } else {
            print("\nBackup:    unknown (no watchdog status)")
        }
    }
}

/// The reason every change to trading carries into the audit log.
struct ReasonOption: ParsableArguments {
    @Option(help: "Why (goes into the audit log with your name)")
    var reason: String

    func validate() throws {
        guard !reason.isEmpty, reason.utf8.count <= 256, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw ValidationError("--reason must be 1-256 bytes without control characters") }
    }
}

/// Asks at a terminal for `word` to be typed before something that cannot be undone;
/// without a terminal, refuses with `otherwise` (the command's `--yes` is the way).
func confirm(_ question: String, typing word: String, otherwise: String) throws {
    guard isatty(STDIN_FILENO) == 1 else { throw ValidationError(otherwise) }
    print("\(question) Type '\(word)' to confirm: ", terminator: "")
    guard readLine() == word else {
        print("Not confirmed; nothing done.")
        throw ExitCode(OperatorExit.refused)
    }
}

/// Prints what risk did with a request.
func report(_ answer: JSONValue, json: Bool) {
    if json {
        print(answer.json)
    } else {
        print(answer["outcome"]?.text ?? "done", terminator: "")
        print(answer["request"].map { " (request \($0.text))" } ?? "")
    }
}

struct HaltCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt", abstract: "Close the halt latch: the executor accepts no new order until an operator resumes.")

    @OptionGroup var manager: ManagerOptions
    @OptionGroup var reason: ReasonOption

    func run() async throws {
        report(try await ManagerClient(socket: manager.socket).call(.POST, "halt", body: ["reason": reason.reason]), json: manager.json)
    }
}

struct ResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Open the halt latch: the bots may trade again (the only way to clear a halt).")

    @OptionGroup var manager: ManagerOptions
    @OptionGroup var reason: ReasonOption

    func run() async throws {
        report(try await ManagerClient(socket: manager.socket).call(.POST, "resume", body: ["reason": reason.reason]), json: manager.json)
    }
}

struct FlattenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flatten", abstract: "Halt, cancel every working order and close every position at market.")

    @OptionGroup var manager: ManagerOptions
    @OptionGroup var reason: ReasonOption

    @Flag(help: "Do not ask for confirmation")
    var yes = false

    func run() async throws {
        if !yes {
            try confirm("Halt trading and close every position at market?", typing: "flatten",
                        otherwise: "flatten closes every position: confirm with --yes when not at a terminal")
        }
        report(try await ManagerClient(socket: manager.socket).call(.POST, "flatten", body: ["reason": reason.reason]), json: manager.json)
    }
}

struct BotsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bots", abstract: "List bots, show one, create one, start, stop, pause or resume one.",
        subcommands: [List.self, Show.self, Create.self, Start.self, Stop.self, Pause.self, Resume.self], defaultSubcommand: List.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "A new bot from the strategy catalogue (`gordonctl strategies`), checked as the bot will check it; created stopped.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "The bot's id: a-z, 0-9, _ and -") var bot: String
        @Option(help: "Entry strategy name") var strategy: String
        @Option(name: .customLong("param"), help: "Strategy parameter as name=value; repeatable") var params: [String] = []
        @Option(name: .customLong("overlay"), help: "Overlay as NAME or NAME:k=v,k=v; repeatable, applied in order") var overlays: [String] = []
        @Option(help: "Sizing rule as NAME or NAME:k=v,k=v (default fixed_fraction)") var sizing: String?
        @Option(help: "The one symbol it trades, e.g. BTCUSDT") var symbol: String
        @Option(help: "Kline interval, e.g. 1h") var interval: String
        @Option(help: "The quote amount it trades with (max_quote_exposure)") var allocation: String

        func run() async throws {
            _ = try botPath(bot)
            var parameters: [String: Double] = [:]
            for text in params {
                let (key, value) = try BacktestCommand.keyValue(text, what: "--param")
                guard let number = Double(value) else { throw ValidationError("--param \(key): '\(value)' is not a number") }
                parameters[key] = number
            }
            let body = NewBot(
                botId: bot, strategy: strategy, parameters: parameters,
                overlays: try overlays.map { try BacktestCommand.namedConfig($0, what: "--overlay") },
                sizing: try sizing.map { try BacktestCommand.namedConfig($0, what: "--sizing") } ?? StrategyConfig(name: "fixed_fraction"),
                symbol: symbol, interval: interval, maxQuoteExposure: allocation)
            let created = try await ManagerClient(socket: manager.socket).call(.POST, "bots", json: body)
            print(manager.json ? created.json : List.render(created.array))
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped bot (its process trades once it sees running).")
        @OptionGroup var manager: ManagerOptions
        @OptionGroup var reason: ReasonOption
        @Argument(help: "The bot's id") var bot: String

        func run() async throws {
            report(try await ManagerClient(socket: manager.socket).call(.POST, "bots/\(try botPath(bot))/start", body: ["reason": reason.reason]),
                   json: manager.json)
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a bot: it stops trading and idles (its process is kept, to start it again); its positions stay (flatten closes them).")
        @OptionGroup var manager: ManagerOptions
        @OptionGroup var reason: ReasonOption
        @Argument(help: "The bot's id") var bot: String

        func run() async throws {
            report(try await ManagerClient(socket: manager.socket).call(.POST, "bots/\(try botPath(bot))/stop", body: ["reason": reason.reason]),
                   json: manager.json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every bot, its desired state and who runs it.")
        @OptionGroup var manager: ManagerOptions

        func run() async throws {
            let bots = try await ManagerClient(socket: manager.socket).call(.GET, "bots")
            print(manager.json ? bots.json : Self.render(bots.array))
        }

        static func render(_ bots: [JSONValue]) -> String {
            table([("BOT", "bot_id"), ("STATE", "desired_state"), ("STRATEGY", "strategy"), ("SYMBOLS", "symbols"), ("INTERVAL", "interval"),
                   ("ALLOCATION", "max_quote_exposure"), ("LEASE", "lease_holder"), ("LIVE", "lease_live")], bots)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One bot, every field.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "The bot's id") var bot: String

        func run() async throws {
            let bots = try await ManagerClient(socket: manager.socket).call(.GET, "bots/\(try botPath(bot))")
            guard let found = bots.array.first else { return }
            if manager.json { print(found.json); return }
            if case .object(let fields) = found {
                let width = fields.keys.map(\.count).max() ?? 0
                for key in fields.keys.sorted() { print("\(key.padding(to: width))  \(fields[key]!.text)") }
            }
        }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "pause", abstract: "Pause a running bot (gordon-risk carries it out and audits it).")
        @OptionGroup var manager: ManagerOptions
        @OptionGroup var reason: ReasonOption
        @Argument(help: "The bot's id") var bot: String

        func run() async throws {
            report(try await ManagerClient(socket: manager.socket).call(.POST, "bots/\(try botPath(bot))/pause", body: ["reason": reason.reason]),
                   json: manager.json)
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "resume", abstract: "Resume a paused bot.")
        @OptionGroup var manager: ManagerOptions
        @OptionGroup var reason: ReasonOption
        @Argument(help: "The bot's id") var bot: String

        func run() async throws {
            report(try await ManagerClient(socket: manager.socket).call(.POST, "bots/\(try botPath(bot))/resume", body: ["reason": reason.reason]),
                   json: manager.json)
        }
    }
}

/// A bot id (BotId's rule) is safe in a path as it is; anything else is refused here.
func botPath(_ bot: String) throws -> String {
    do { return try BotId(bot).rawValue } catch {
        throw ValidationError("'\(bot)' is not a bot id (a-z, 0-9, _ and -, at most 63)")
    }
}

/// `--bot` and `--limit` of the listing commands.
struct ListOptions: ParsableArguments {
    @Option(help: "Only this bot") var bot: String?
    @Option(help: "At most this many rows (1-1000)") var limit = 50

    func validate() throws {
        if let bot { _ = try botPath(bot) }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1-1000") }
    }

    var query: String { "?limit=\(limit)" + (bot.map { "&bot=\($0)" } ?? "") }
}

struct OrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "orders", abstract: "The latest orders, newest first.")
    @OptionGroup var manager: ManagerOptions
    @OptionGroup var list: ListOptions

    func run() async throws {
        let orders = try await ManagerClient(socket: manager.socket).call(.GET, "orders" + list.query)
        print(manager.json ? orders.json : table([
            ("CREATED", "created_at"), ("BOT", "bot_id"), ("SYMBOL", "symbol"), ("SIDE", "side"), ("TYPE", "order_type"), ("PRICE", "price"),
            ("QUANTITY", "quantity"), ("EXECUTED", "executed_quantity"), ("STATUS", "status"), ("ORDER", "client_order_id"),
        ], orders.array))
    }
}

struct FillsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fills", abstract: "The latest trades, newest first.")
    @OptionGroup var manager: ManagerOptions
    @OptionGroup var list: ListOptions

    func run() async throws {
        let fills = try await ManagerClient(socket: manager.socket).call(.GET, "fills" + list.query)
        print(manager.json ? fills.json : table([
            ("TIME", "trade_time"), ("BOT", "bot_id"), ("SYMBOL", "symbol"), ("SIDE", "side"), ("PRICE", "price"), ("QUANTITY", "quantity"),
            ("QUOTE", "quote_quantity"), ("FEE", "commission"), ("ASSET", "commission_asset"), ("ORDER", "client_order_id"),
        ], fills.array))
    }
}

struct PositionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "positions", abstract: "Every bot's positions at the last close.")
    @OptionGroup var manager: ManagerOptions
    @Option(help: "Only this bot") var bot: String?

    func validate() throws { if let bot { _ = try botPath(bot) } }

    func run() async throws {
        let positions = try await ManagerClient(socket: manager.socket).call(.GET, "positions" + (bot.map { "?bot=\($0)" } ?? ""))
        print(manager.json ? positions.json : Self.render(positions.array))
    }

    static func render(_ positions: [JSONValue]) -> String {
        table([("BOT", "bot_id"), ("SYMBOL", "symbol"), ("QUANTITY", "quantity"), ("ENTRY", "average_entry_price"), ("LAST", "last_price"),
               ("UNREALISED", "unrealized_pnl"), ("REALISED", "realized_pnl")], positions)
    }
}

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "The risk audit log: who halted, resumed, flattened or paused, and why.")
    @OptionGroup var manager: ManagerOptions
    @Option(help: "At most this many rows (1-1000)") var limit = 20

    func validate() throws { guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1-1000") } }

    func run() async throws {
        let entries = try await ManagerClient(socket: manager.socket).call(.GET, "audit?limit=\(limit)")
        print(manager.json ? entries.json : table([
            ("TIME", "occurred_at"), ("ACTOR", "actor"), ("ACTION", "action"), ("TARGET", "target"), ("REASON", "reason"),
        ], entries.array))
    }
}
