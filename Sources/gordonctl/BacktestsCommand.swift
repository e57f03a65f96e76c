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
