#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonCommandLine
import GordonKernel
import GordonManager

/// `gordonctl backtests`: the backtests gordon-manager has run or is running.
struct BacktestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtests", abstract: "Backtests run on gordon-manager: list them, show one, cancel one.",
        subcommands: [List.self, Show.self, Cancel.self], defaultSubcommand: List.self)

    static let columns: [(title: String, key: String)] = [
        ("RUN", "run_id"), ("STATUS", "status"), ("PROGRESS", "progress"), ("STRATEGY", "strategy"), ("SYMBOL", "symbol"),
        ("INTERVAL", "interval"), ("FROM", "from_time"), ("TO", "to_time"), ("BY", "requested_by"), ("FILED", "created_at"),
    ]

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "The newest backtests first.")
        @OptionGroup var manager: ManagerOptions
        @Option(help: "How many (1-1000)") var limit = 20

        func run() async throws {
            let runs = try await ManagerClient(socket: manager.socket).call(.GET, "backtests?limit=\(limit)")
            print(manager.json ? runs.json : table(BacktestsCommand.columns, runs.array))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One backtest: its state, its result or why it failed.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "The run id") var run: String

        func run() async throws {
            let found = try await ManagerClient(socket: manager.socket).call(.GET, "backtests/\(try runPath(run))")
            print(manager.json ? found.json : BacktestsCommand.render(found))
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a queued or running backtest.")
        @OptionGroup var manager: ManagerOptions
        @Argument(help: "The run id") var run: String

        func run() async throws {
            let outcome = try await ManagerClient(socket: manager.socket).call(.POST, "backtests/\(try runPath(run))/cancel", body: [:])
            print(manager.json ? outcome.json : "run \(run): \(outcome["outcome"]?.text ?? "")")
        }
    }

    /// A run for people: what it ran, where it is, its result.
    static func render(_ run: JSONValue) -> String {
        var lines = [table(columns, [run])]
        if let error = run["error"], error != .null { lines.append("error: \(error.text)") }
        if let summary = run["summary"], case .object(let fields) = summary {
            lines.append("")
            for key in fields.keys.sorted() { lines.append("  \(key): \(fields[key]!.text)") }
        }
        return lines.joined(separator: "\n")
    }

    /// Submits `request` and, unless `detach`, follows the run to its end: a progress bar on
    /// standard error, the result on standard output. Failed or cancelled: exit 1.
    static func submit(_ request: BacktestRequest, manager: ManagerOptions, detach: Bool) async throws {
        let client = ManagerClient(socket: manager.socket)
        var run = try await client.call(.POST, "backtests", json: request)
        let id = run["run_id"]?.text ?? ""
        guard !detach else {
            print(manager.json ? run.json : "filed backtest \(id): follow it with `gordonctl backtests show \(id)`")
            return
        }
        standardError("filed backtest \(id)\n")
        let bar = ProgressBar()
        while true {
            let status = run["status"]?.text ?? ""
            if ["succeeded", "failed", "cancelled"].contains(status) { break }
            bar.show(percent: Int(run["progress"]?.text ?? "") ?? 0, status: status)
            try await Task.sleep(for: .milliseconds(500))  // the manager's progress is written twice a second
            run = try await client.call(.GET, "backtests/\(id)")
        }
        bar.finish()
        print(manager.json ? run.json : render(run))
        guard run["status"]?.text == "succeeded" else { throw ExitCode(OperatorExit.refused) }
    }
}

/// A one-line progress bar on standard error when it is a terminal; otherwise a line per tenth.
final class ProgressBar {
    private let isTerminal = isatty(2) != 0
    private var lastTenth = -1

    func show(percent: Int, status: String) {
        if isTerminal {
            let filled = max(0, min(30, percent * 30 / 100))
            standardError("\r[" + String(repeating: "#", count: filled) + String(repeating: " ", count: 30 - filled) + "] \(percent)% \(status)  ")
        } else if percent / 10 != lastTenth {
            lastTenth = percent / 10
            standardError("progress: \(percent)% (\(status))\n")
        }
    }

    func finish() {
        if isTerminal { standardError("\n") }
    }
}

/// A run id, checked before it goes into a path.
func runPath(_ text: String) throws -> String {
    let hex = text.utf8.filter { $0 != UInt8(ascii: "-") }
    guard text.utf8.count == 36, hex.count == 32,
          hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || ($0 >= 0x41 && $0 <= 0x46) })
    else { throw ValidationError("a run id is a UUID such as 0193a1e2-8b4c-7a3f-9c2d-5e6f7a8b9c0d, not '\(text)'") }
    return text
}

/// `gordonctl data`: what market data the database holds.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Market data: the stored kline series and alternative-data series.",
        subcommands: [Status.self, Backfill.self, Backfills.self], defaultSubcommand: Status.self)

    static let backfillColumns: [(title: String, key: String)] = [
        ("ID", "id"), ("SYMBOL", "symbol"), ("INTERVAL", "interval"), ("FROM", "from_time"), ("TO", "to_time"), ("STATUS", "status"),
        ("PROGRESS", "progress"), ("FETCHED", "fetched"), ("NEW", "written"), ("BY", "requested_by"), ("ERROR", "error"),
    ]

    struct Backfill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "backfill",
            abstract: "Ask gordon-data to backfill one kline series over Binance's REST API, and follow it (exit 1 if it fails).")
        @OptionGroup var manager: ManagerOptions
        @Option(help: "Symbol, e.g. BTCUSDT") var symbol: String
        @Option(help: "Kline interval, e.g. 1m") var interval: String
        @Option(help: "First open time: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch milliseconds") var from: String
        @Option(help: "Last open time, in the same forms (default: now)") var to: String?
        @Flag(help: "File it and return at once") var detach = false

        func run() async throws {
            let lower = try CommandLineTime.milliseconds(from, what: "--from")
            let upper = try to.map { try CommandLineTime.milliseconds($0, what: "--to") } ?? Int64(Date.now.timeIntervalSince1970 * 1000)
            let client = ManagerClient(socket: manager.socket)
            var request = try await client.call(.POST, "data/backfill",
                                                json: ManagerAPI.BackfillBody(symbol: symbol, interval: interval, from: lower, to: upper))
            let id = request["id"]?.text ?? ""
            guard !detach else {
                print(manager.json ? request.json : "filed backfill \(id): follow it with `gordonctl data backfills`")
                return
            }
            standardError("filed backfill \(id)\n")
            let bar = ProgressBar()
            while !["succeeded", "failed"].contains(request["status"]?.text ?? "") {
                bar.show(percent: Int(request["progress"]?.text ?? "") ?? 0, status: request["status"]?.text ?? "")
                try await Task.sleep(for: .seconds(1))  // gordon-data writes its progress once a second
                request = try await client.call(.GET, "data/backfills/\(id)")
            }
            bar.finish()
            print(manager.json ? request.json : table(DataCommand.backfillColumns, [request]))
            guard request["status"]?.text == "succeeded" else { throw ExitCode(OperatorExit.refused) }
        }
    }

    struct Backfills: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "backfills", abstract: "Backfills filed, newest first.")
        @OptionGroup var manager: ManagerOptions
        @Option(help: "How many (1-1000)") var limit = 20

        func run() async throws {
            let list = try await ManagerClient(socket: manager.socket).call(.GET, "data/backfills?limit=\(limit)")
            print(manager.json ? list.json : table(DataCommand.backfillColumns, list.array))
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status", abstract: "Each kline series: count, first and last bar, bars missing, how far behind; each metric's last value.")
        @OptionGroup var manager: ManagerOptions

        func run() async throws {
            let status = try await ManagerClient(socket: manager.socket).call(.GET, "data")
            if manager.json { print(status.json); return }
            print(table([("SYMBOL", "symbol"), ("INTERVAL", "interval"), ("KLINES", "klines"), ("MISSING", "missing"), ("FIRST", "first_open"),
                         ("LAST", "last_open"), ("BEHIND (S)", "seconds_behind")], status["klines"]?.array ?? []))
            let metrics = status["metrics"]?.array ?? []
            if !metrics.isEmpty {
                print("")
                print(table([("METRIC", "name"), ("OBSERVATIONS", "observations"), ("LAST", "last_observed_at"), ("SOURCE", "source")], metrics))
            }
        }
    }
}

/// `gordonctl backup`: the watchdog's backups, through gordon-manager.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Backups: the last one's result, or ask the watchdog for one now.",
        subcommands: [Status.self, Now.self], defaultSubcommand: Status.self)

    static func backupStatus(_ client: ManagerClient) async throws -> JSONValue {
        let status = try await client.call(.GET, "status")
        guard let backup = status["watchdog"]?["backup"], backup != .null else {
            standardError("gordonctl: the watchdog's status has no backups (is it running, with backups configured?)\n")
            throw ExitCode(OperatorExit.unreachable)
        }
        return backup
    }

    static func render(_ backup: JSONValue) -> String {
        ["lastResult", "runningStep", "lastStartedAt", "lastFinishedAt", "lastDurationSeconds", "lastSuccessAt", "lastSnapshotId",
         "lastRequestedBy", "failedStep", "detail", "nextInSeconds"].compactMap { key in
            guard let value = backup[key], value != .null else { return nil }
            return "\(key): \(value.text)"
        }.joined(separator: "\n")
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "The last backup: result, snapshot, when the next is due.")
        @OptionGroup var manager: ManagerOptions

        func run() async throws {
            let backup = try await BackupCommand.backupStatus(ManagerClient(socket: manager.socket))
            print(manager.json ? backup.json : BackupCommand.render(backup))
        }
    }

    struct Now: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "now", abstract: "Ask the watchdog for a backup now; --wait follows it to its end (exit 1 if it failed).")
        @OptionGroup var manager: ManagerOptions
        @Flag(help: "Wait for the backup to finish") var wait = false
        @Option(help: "Give up waiting after this many seconds") var timeoutSeconds = 3600

        func run() async throws {
            let client = ManagerClient(socket: manager.socket)
            let before = wait ? try await BackupCommand.backupStatus(client)["lastStartedAt"] : nil
            let outcome = try await client.call(.POST, "backup", body: [:])
            guard wait else {
                print(manager.json ? outcome.json : outcome["outcome"]?.text ?? "requested")
                return
            }
            let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .seconds(1))  // the watchdog rewrites its status every second
                let backup = try await BackupCommand.backupStatus(client)
                let result = backup["lastResult"]?.text ?? ""
                guard backup["lastStartedAt"] != before, result == "succeeded" || result == "failed" else {
                    if backup["lastStartedAt"] != before { standardError("backup running: \(backup["runningStep"]?.text ?? "")\n") }
                    continue
                }
                print(manager.json ? backup.json : BackupCommand.render(backup))
                if result == "failed" { throw ExitCode(OperatorExit.refused) }
                return
            }
            standardError("gordonctl: the backup has not finished within \(timeoutSeconds) s; see `gordonctl backup status`\n")
            throw ExitCode(OperatorExit.pending)
        }
    }
}
