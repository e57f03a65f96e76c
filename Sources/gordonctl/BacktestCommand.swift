import GordonCommandLine
import ArgumentParser
import FoundationEssentials
import GordonDomain
import GordonKernel
import GordonKlineFiles
import GordonManager
import GordonStrategy

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

struct BacktestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Backtest a strategy on Binance kline files, offline.",
        discussion: """
        Example: gordonctl backtest --strategy sma_crossover --param fast=10 --param slow=30 \\
                   --csv BTCUSDT-1m-2024-01.zip --symbol BTCUSDT --interval 1m --out report/
        Writes trades.csv, equity.csv and equity.svg to --out; `gordonctl strategies` lists names and parameters.
        """
    )

    @Option(help: "Entry strategy name (see `gordonctl strategies`).") var strategy: String?
    @Option(help: ArgumentHelp(#"A JSON trading plan file instead of --strategy/--param/--overlay/--sizing/--max-exposure: {"strategy":{"name":…,"parameters":{…}},"overlays":[…],"sizing":{…},"maxExposure":1}"#))
    var plan: String?
    @Option(name: .customLong("param"), help: "Strategy parameter as name=value; repeatable.") var params: [String] = []
    @Option(name: .customLong("overlay"), help: "Overlay as NAME or NAME:k=v,k=v; repeatable, applied in order.")
    var overlays: [String] = []
    @Option(help: "Sizing rule as NAME or NAME:k=v,k=v (default fixed_fraction:fraction=0.9999).") var sizing: String?
    @Option(name: .customLong("max-exposure"), help: "Largest fraction of equity a position may take, (0, 1].")
    var maxExposure: Double = 1
    @Option(name: .customLong("csv"), parsing: .upToNextOption, help: "Binance kline files (.csv or .zip).")
    var files: [String] = []
    @Option(help: "Generate this many synthetic bars instead of reading files.") var synthetic: Int?
    @Option(help: "Seed of the synthetic generator.") var seed: UInt64 = 1
    @Option(help: "Symbol, e.g. BTCUSDT.") var symbol: String
    @Option(help: "Kline interval, e.g. 1m, 1h, 1d.") var interval: String
    @Option(help: "First bar to use: YYYY-MM-DD[THH:MM] UTC or epoch milliseconds.") var from: String?
    @Option(help: "Bars before this are used: YYYY-MM-DD[THH:MM] UTC or epoch milliseconds.") var to: String?
    @Option(help: "Commission in basis points: one figure for maker and taker, or MAKER,TAKER (default 10 = Binance's 0.1%).")
    var fees: String = "10"
    @Flag(help: "Pay commission in BNB (25% off).") var bnb = false
    @Option(name: .customLong("slippage-bps"), help: "Adverse slippage on market fills, basis points.") var slippageBps: Double = 0
    @Option(help: "Starting cash in the quote asset.") var cash: String = "10000"
    @Option(help: "When signals execute: next_open (default) or same_close.") var fill: String = "next_open"
    @Option(name: .customLong("tick-size"), help: "PRICE_FILTER tick size.") var tickSize: String?
    @Option(name: .customLong("step-size"), help: "LOT_SIZE step size.") var stepSize: String?
    @Option(name: .customLong("min-notional"), help: "NOTIONAL minimum.") var minNotional: String?
    @Flag(name: .customLong("allow-gaps"), help: "Accept missing klines instead of refusing the data.") var allowGaps = false
    @Option(name: .customLong("walk-forward"), help: "Walk-forward windows IN:OUT in bars (needs --grid).") var walkForward: String?
    @Option(name: .customLong("grid"), help: "Parameter grid axis as name=v1,v2,...; repeatable.") var grid: [String] = []
    @Option(help: "Walk-forward objective: sharpe, total_return or calmar.") var objective: String = "sharpe"
    @Flag(help: "Also report each overlay's contribution (all, none, each removed).") var ablation = false
    @Option(help: "Directory for trades.csv, equity.csv and equity.svg.") var out: String?
    @Flag(help: "No progress lines.") var quiet = false
    @Flag(help: "Run it on gordon-manager over the klines the database holds (needs --from and --to), following its progress.")
    var submit = false
    @Flag(help: "With --submit: file it and return at once.") var detach = false
    @OptionGroup var manager: ManagerOptions

    func run() async throws {
        if submit {
            try await BacktestsCommand.submit(try submittedRequest(), manager: manager, detach: detach)
            return
        }
        guard !detach else { throw ValidationError("--detach goes with --submit") }
        let symbol = try Symbol(self.symbol)
        let interval = try Interval(parsing: self.interval)
        let plan = try makePlan()
        _ = try plan.makeStrategy()  // unknown names and bad parameters fail before any data is read
        let settings = try makeSettings()
        let series = try loadSeries(symbol: symbol, interval: interval)
        let backtester = Backtester(settings: settings)
        let title = "\(plan.strategy.name) on \(symbol) \(interval)"

        if let walkForward {
            try await runWalkForward(walkForward, plan: plan, series: series, backtester: backtester, title: title)
            return
        }
        let showProgress = !quiet && series.count >= 200_000
        var lastShown = -1
        let result = try backtester.run(plan, on: series, progress: showProgress ? { index in
            let percent = index * 100 / series.count
            if percent / 10 != lastShown / 10 {
                lastShown = percent
                standardError("progress: \(percent)% (\(index)/\(series.count) bars)\n")
            }
        } : nil)
        print(BacktestReport.summary(result, title: title), terminator: "")
        if ablation {
            print("\nablation:")
            printTable(try Ablation.run(plan, on: series, backtester: backtester).map { ($0.label, $0.metrics) })
        }
        if let out {
            try writeFile(out, "trades.csv", BacktestReport.tradesCSV(result))
            try writeFile(out, "equity.csv", BacktestReport.equityCSV(result))
            try writeFile(out, "equity.svg", BacktestReport.equitySVG(result, title: title))
            print("wrote \(out)/trades.csv, \(out)/equity.csv, \(out)/equity.svg")
        }
    }

    /// The backtest as gordon-manager runs it: the same plan and account, over stored klines.
    func submittedRequest() throws -> BacktestRequest {
        guard files.isEmpty, synthetic == nil, walkForward == nil, !ablation, out == nil, tickSize == nil, stepSize == nil,
              minNotional == nil, !allowGaps else {
            throw ValidationError("--submit runs over the klines gordon-manager's database holds: leave out --csv, --synthetic, "
                                  + "--walk-forward, --ablation, --out, --tick-size, --step-size, --min-notional and --allow-gaps")
        }
        guard let from, let to else { throw ValidationError("--submit needs --from and --to") }
        let plan = try makePlan()
        _ = try plan.makeStrategy()
        let rates = fees.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard rates.count == 1 || rates.count == 2 else { throw ValidationError("--fees must be one figure or MAKER,TAKER (got '\(fees)')") }
        let request = BacktestRequest(
            plan: plan, symbol: symbol, interval: interval, from: try CommandLineTime.milliseconds(from, what: "--from"),
            to: try CommandLineTime.milliseconds(to, what: "--to"), cash: cash, makerFeeBps: rates[0], takerFeeBps: rates.last!,
            payFeesWithBNB: bnb, fill: fill, slippageBps: Format.fixed(slippageBps, 4))
        do {
            _ = try request.validated()
        } catch {
            throw ValidationError(error.message)
        }
        return request
    }

    private func runWalkForward(_ windows: String, plan: TradingPlan, series: BarSeries, backtester: Backtester,
                                title: String) async throws {
        let parts = windows.split(separator: ":")
        guard parts.count == 2, let inSample = Int(parts[0]), let outOfSample = Int(parts[1]), inSample > 0, outOfSample > 0 else {
            throw ValidationError("--walk-forward must be IN:OUT bar counts, e.g. 10000:2000 (got '\(windows)')")
        }
        guard !grid.isEmpty else { throw ValidationError("--walk-forward needs at least one --grid name=v1,v2,...") }
        guard let objective = Objective(rawValue: objective) else {
            throw ValidationError("--objective must be one of \(Objective.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var axes: [String: [Double]] = [:]
        for axis in grid {
            let (name, values) = try Self.keyValue(axis, what: "--grid")
            axes[name] = try values.split(separator: ",").map { text in
                guard let value = Double(text) else { throw ValidationError("--grid \(name): '\(text)' is not a number") }
                return value
            }
        }
        let analysis = WalkForward(inSampleBars: inSample, outOfSampleBars: outOfSample, objective: objective, concurrency: 2)
        let report = try await analysis.run(plan, grid: ParameterGrid(axes), on: series, backtester: backtester)
        print("walk-forward \(title): \(report.windows.count) windows of \(inSample) in-sample + \(outOfSample) out-of-sample bars")
        for (number, window) in report.windows.enumerated() {
            let best = window.best.keys.sorted().map { "\($0)=\(Format.fixed(window.best[$0]!, 4))" }.joined(separator: " ")
            print("  window \(number + 1): best \(best), in-sample \(objective.rawValue) \(Format.fixed(window.inSampleScore, 3)), "
                  + "out-of-sample return \(Format.fixed(window.outOfSample.totalReturn * 100, 2))%, trades \(window.outOfSample.tradeCount)")
        }
        print("stitched out-of-sample:")
        for (label, value) in report.stitched.rows { print("  \(label): \(value)") }
        if let out {
            var text = "step,equity\n"
            for (index, value) in report.stitchedEquity.enumerated() { text += "\(index),\(Format.fixed(value, 8))\n" }
            try writeFile(out, "walk_forward_equity.csv", text)
            print("wrote \(out)/walk_forward_equity.csv")
        }
    }

    private func printTable(_ rows: [(String, Metrics)]) {
        let width = max(12, rows.map(\.0.count).max() ?? 0)
        func pad(_ text: String, _ count: Int) -> String { text + String(repeating: " ", count: max(0, count - text.count)) }
        print(pad("variant", width) + "  total return  max drawdown  sharpe   trades")
        for (label, metrics) in rows {
            print(pad(label, width) + "  " + pad(Format.fixed(metrics.totalReturn * 100, 2) + "%", 12) + "  "
                  + pad(Format.fixed(metrics.maxDrawdown * 100, 2) + "%", 12) + "  " + pad(Format.fixed(metrics.sharpe, 3), 7)
                  + "  \(metrics.tradeCount)")
        }
    }

    // MARK: Input

    func makePlan() throws -> TradingPlan {
        if let plan {
            guard strategy == nil, params.isEmpty, overlays.isEmpty, sizing == nil else {
                throw ValidationError("give either --plan or --strategy (with --param, --overlay, --sizing), not both")
            }
            let bytes: Data
            do { bytes = try Data(contentsOf: URL(fileURLWithPath: plan)) } catch {
                throw GordonError(.marketDataUnreadable, "cannot read the plan \(plan)", context: ["path": plan])
            }
            let decoded: TradingPlan
            do { decoded = try JSONDecoder().decode(TradingPlan.self, from: bytes) } catch {
                throw GordonError(.invalidBacktestConfig, "\(plan) is not a trading plan: \(Self.describe(error))")
            }
            _ = try decoded.makeSizing()
            return decoded
        }
        guard let strategy else { throw ValidationError("name a strategy with --strategy NAME (or give --plan FILE)") }
        var parameters: [String: Double] = [:]
        for param in params {
            let (name, text) = try Self.keyValue(param, what: "--param")
            guard let value = Double(text) else { throw ValidationError("--param \(name): '\(text)' is not a number") }
            parameters[name] = value
        }
        let overlays = try self.overlays.map { try Self.namedConfig($0, what: "--overlay") }
        let sizing = try sizing.map { try Self.namedConfig($0, what: "--sizing") } ?? StrategyConfig(name: "fixed_fraction")
        let plan = TradingPlan(strategy: StrategyConfig(name: strategy, parameters: parameters), overlays: overlays,
                               sizing: sizing, maxExposure: maxExposure)
        _ = try plan.makeSizing()
        return plan
    }

    func makeSettings() throws -> BacktestSettings {
        let rates = fees.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...2).contains(rates.count) else { throw ValidationError("--fees must be BPS or MAKER,TAKER in basis points (got '\(fees)')") }
        let maker = try Self.decimal(String(rates[0]), what: "--fees")
        let taker = try Self.decimal(String(rates.count == 2 ? rates[1] : rates[0]), what: "--fees")
        guard let fill = FillTiming(rawValue: fill) else {
            throw ValidationError("--fill must be next_open or same_close (got '\(fill)')")
        }
        guard slippageBps >= 0, slippageBps < 10_000 else { throw ValidationError("--slippage-bps must be in 0..<10000") }
        let initialCash = try Self.decimal(cash, what: "--cash")
        guard initialCash.isPositive else { throw ValidationError("--cash must be positive") }
        let filters = ExchangeFilters(tickSize: try tickSize.map { try Self.decimal($0, what: "--tick-size") },
                                      stepSize: try stepSize.map { try Self.decimal($0, what: "--step-size") },
                                      minNotional: try minNotional.map { try Self.decimal($0, what: "--min-notional") })
        let slippage = try ExactDecimal(parsing: Format.fixed(slippageBps, 4))
            .divided(by: ExactDecimal(10_000), scale: 12, rounding: .halfEven)
        return BacktestSettings(initialCash: initialCash, fees: try FeeModel(makerBps: maker, takerBps: taker, payWithBNB: bnb),
                                slippage: slippage, filters: filters, fillTiming: fill, closeAtEnd: true)
    }

    func loadSeries(symbol: Symbol, interval: Interval) throws -> BarSeries {
        var series: BarSeries
        if let synthetic {
            guard files.isEmpty else { throw ValidationError("give either --csv files or --synthetic, not both") }
            guard synthetic > 0 else { throw ValidationError("--synthetic must be a positive bar count") }
            series = SyntheticMarket(seed: seed).generate(count: synthetic, symbol: symbol, interval: interval,
                                                          startOpenTime: 1_577_836_800_000)
        } else {
            guard !files.isEmpty else { throw ValidationError("no data: give --csv FILE... (Binance kline .csv or .zip) or --synthetic N") }
            series = try KlineFileLoader.load(paths: files, symbol: symbol, interval: interval)
        }
        let lower = try from.map { try CommandLineTime.milliseconds($0, what: "--from") }
        let upper = try to.map { try CommandLineTime.milliseconds($0, what: "--to") }
        if lower != nil || upper != nil { series = series.slice(from: lower, to: upper) }
        guard !series.isEmpty else { throw GordonError(.invalidMarketData, "no bars between --from and --to") }
        if !allowGaps, let gap = series.gaps().first {
            let after = Timestamp(milliseconds: series.openTime[gap.index - 1])
            let next = Timestamp(milliseconds: series.openTime[gap.index])
            throw GordonError(.marketDataGap, "gap in data: \(gap.missing) \(interval) kline(s) missing between \(after) and \(next) "
                              + "(\(series.gaps().count) gap(s) in all; --allow-gaps accepts them)")
        }
        return series
    }

    /// A decoding error in one line: what was wrong and where.
    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \(key.stringValue) at \(path(context.codingPath))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription) at \(path(context.codingPath))"
        default:
            return "\(error)"
        }
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    static func keyValue(_ text: String, what: String) throws -> (String, String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex, text.index(after: equals) != text.endIndex else {
            throw ValidationError("\(what) must be name=value (got '\(text)')")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }

    /// `NAME` or `NAME:k=v,k=v`.
    static func namedConfig(_ text: String, what: String) throws -> StrategyConfig {
        let parts = text.split(separator: ":", maxSplits: 1)
        guard let name = parts.first, !name.isEmpty else { throw ValidationError("\(what) needs a name (got '\(text)')") }
        var parameters: [String: Double] = [:]
        if parts.count == 2 {
            for pair in parts[1].split(separator: ",") {
                let (key, value) = try keyValue(String(pair), what: what)
                guard let number = Double(value) else { throw ValidationError("\(what) \(name): '\(value)' is not a number") }
                parameters[key] = number
            }
        }
        return StrategyConfig(name: String(name), parameters: parameters)
    }

    static func decimal(_ text: String, what: String) throws -> ExactDecimal {
        do { return try ExactDecimal(parsing: text) } catch { throw ValidationError("\(what): '\(text)' is not a decimal number") }
    }

    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (UTC) or epoch milliseconds.
    func writeFile(_ directory: String, _ name: String, _ text: String) throws {
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw GordonError(.marketDataUnreadable, "cannot create directory \(directory): errno \(errno)")
        }
        try KlineFileLoader.write(Array(text.utf8), to: directory + "/" + name)
    }
}
