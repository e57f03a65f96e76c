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
import GordonProcess

/// `gordonctl data`: what market data the database holds.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Market data: the stored kline series and alternative-data series.",
        subcommands: [Status.self, Backfill.self, Import.self, Backfills.self], defaultSubcommand: Status.self)

    static let backfillColumns: [(title: String, key: String)] = [
        ("ID", "id"), ("SYMBOL", "symbol"), ("INTERVAL", "interval"), ("SOURCE", "source"), ("FROM", "from_time"), ("TO", "to_time"), ("STATUS", "status"),
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
            let request = try await client.call(.POST, "data/backfill",
                                                json: ManagerAPI.BackfillBody(symbol: symbol, interval: interval, from: lower, to: upper))
            try await DataCommand.follow(request, what: "backfill", client: client, manager: manager, detach: detach)
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import",
            abstract: "Import Binance public-data kline files (.zip as downloaded, or .csv) through gordon-data, and follow each (exit 1 if one fails).",
            discussion: "Each file is checked whole by gordon-manager first (a malformed row refuses it with the row), then imported by gordon-data; rows already stored are skipped, so an import may be repeated.")
        @OptionGroup var manager: ManagerOptions
        @Option(help: "Symbol, e.g. BTCUSDT") var symbol: String
        @Option(help: "Kline interval, e.g. 1m") var interval: String
        @Argument(help: "Kline files of the series, e.g. BTCUSDT-1m-2024-01.zip") var files: [String]
        @Flag(help: "File them and return at once") var detach = false

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one kline file") }
            for file in files where !(file.lowercased().hasSuffix(".zip") || file.lowercased().hasSuffix(".csv")) {
                throw ValidationError("\(file) is neither a .zip nor a .csv kline file")
            }
        }

        func run() async throws {
            let client = ManagerClient(socket: manager.socket)
            var failed = false
            for file in files {
                guard let bytes = readFile(file) else {
                    throw ValidationError("cannot read \(file): \(String(cString: strerror(errno)))")
                }
                let name = file.split(separator: "/").last.map(String.init) ?? file
                let request = try await client.upload(
                    "data/import?symbol=\(symbol.percentEncoded)&interval=\(interval.percentEncoded)&name=\(name.percentEncoded)", bytes: bytes)
                do {
                    try await DataCommand.follow(request, what: "import of \(name)", client: client, manager: manager, detach: detach)
                } catch let exit as ExitCode where exit.rawValue == OperatorExit.refused {
                    failed = true  // the next files still go; the exit status says one failed
                }
            }
            if failed { throw ExitCode(OperatorExit.refused) }
        }
    }

    /// Unless `detach`, follows a filed backfill or import to its end: a progress bar on
    /// standard error, the request's last state on standard output; exit 1 if it failed.
    static func follow(_ filed: JSONValue, what: String, client: ManagerClient, manager: ManagerOptions, detach: Bool) async throws {
        var request = filed
        let id = request["id"]?.text ?? ""
        guard !detach else {
            print(manager.json ? request.json : "filed \(what) as request \(id): follow it with `gordonctl data backfills`")
            return
        }
        standardError("filed \(what) as request \(id)\n")
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
