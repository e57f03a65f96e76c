import ArgumentParser
import GordonDomain
import GordonKernel
import GordonKlineFiles
import GordonStrategy

/// Backtest throughput: the SMA crossover beside backtesting.py (`Benchmarks/backtest`),
/// every catalogue strategy, and a parameter sweep on both cores.
@main
struct BacktestBench: AsyncParsableCommand {
    @Option(help: "Binance kline CSV to backtest.") var csv: String?
    @Option(help: "Write this many synthetic 1m bars to --csv first, then exit.") var generate: Int?
    @Option(help: "Seed for --generate.") var seed: UInt64 = 1
    @Option(help: "Mode: sma, all, sweep.") var mode: String = "sma"
    @Option var fast: Int = 10
    @Option var slow: Int = 30
    @Option var cash: String = "1000000"
    @Option(help: "Commission as a fraction, e.g. 0.001.") var commission: String = "0.001"
    @Option(help: "Write the SMA run's trades here (entry_bar,exit_bar,entry_price,exit_price,size).") var tradesOut: String?
    @Option(help: "Runs per measurement; the fastest is reported.") var runs: Int = 3
    @Option(help: "Sweep points (a fast × slow grid).") var points: Int = 100
    @Option(help: "Sweep concurrency.") var concurrency: Int = 2

    func run() async throws {
        let symbol = try Symbol("BTCUSDT")
        guard let csv else { throw ValidationError("--csv is required") }
        if let generate {
            let series = SyntheticMarket(seed: seed).generate(count: generate, symbol: symbol, interval: .oneMinute,
                                                              startOpenTime: 1_577_836_800_000)
            try KlineFileLoader.write(BinanceKlineCSV.write(series), to: csv)
            print("{\"generated\": \(generate), \"file\": \"\(csv)\"}")
            return
        }
        let clock = ContinuousClock()
        let loadStart = clock.now
        let series = try KlineFileLoader.load(paths: [csv], symbol: symbol, interval: .oneMinute)
        let loadSeconds = seconds(clock.now - loadStart)
        let rate = try ExactDecimal(parsing: commission)
        // backtesting.py trades whole units and charges commission on both legs, in cash.
        let settings = BacktestSettings(initialCash: try ExactDecimal(parsing: cash), fees: FeeModel(makerRate: rate, takerRate: rate),
                                        filters: ExchangeFilters(stepSize: .one), fillTiming: .nextOpen, closeAtEnd: false)
        let backtester = Backtester(settings: settings)
        // All in, as backtesting.py's default `buy()` (its size 1 − 2⁻⁵² is all of the cash).
        let sma = TradingPlan(strategy: StrategyConfig(name: "sma_crossover", parameters: ["fast": Double(fast), "slow": Double(slow)]),
                              sizing: StrategyConfig(name: "fixed_fraction", parameters: ["fraction": 1]))

        switch mode {
        case "sma":
            var best = Double.infinity
            var result: BacktestResult?
            var all: [Double] = []
            for _ in 0..<max(1, runs) {
                let start = clock.now
                result = try backtester.run(sma, on: series)
                all.append(seconds(clock.now - start))
                best = min(best, all.last!)
            }
            let trades = result!.trades
            if let tradesOut {
                var text = "entry_bar,exit_bar,entry_price,exit_price,size\n"
                for trade in trades {
                    text += "\(trade.entryIndex),\(trade.exitIndex),\(trade.entryPrice),\(trade.exitPrice),\(trade.quantity)\n"
                }
                try KlineFileLoader.write(Array(text.utf8), to: tradesOut)
            }
            print("{\"bars\": \(series.count), \"seconds\": \(best), \"bars_per_second\": \(Double(series.count) / best), "
                  + "\"trades\": \(trades.count), \"final_equity\": \(result!.equity.last!), \"load_seconds\": \(loadSeconds), "
                  + "\"run_seconds\": [\(all.map { String($0) }.joined(separator: ", "))]}")
        case "all":
            for descriptor in StrategyCatalog.all {
                var best = Double.infinity
                var trades = 0
                for _ in 0..<max(1, runs) {
                    let start = clock.now
                    var plan = sma
                    plan.strategy = StrategyConfig(name: descriptor.name)
                    let result = try backtester.run(plan, on: series)
                    best = min(best, seconds(clock.now - start))
                    trades = result.trades.count
                }
                print("{\"strategy\": \"\(descriptor.name)\", \"bars\": \(series.count), \"seconds\": \(best), "
                      + "\"bars_per_second\": \(Double(series.count) / best), \"trades\": \(trades)}")
            }
        case "sweep":
            let side = Int(Double(points).squareRoot().rounded(.up))
            let fasts = (0..<side).map { Double(5 + 3 * $0) }
            let slows = (0..<side).map { Double(50 + 15 * $0) }
            let grid = ParameterGrid(["fast": fasts, "slow": slows])
            let start = clock.now
            let results = await ParameterSweep.run(sma, grid: grid, on: series, backtester: backtester, concurrency: concurrency)
            let elapsed = seconds(clock.now - start)
            let failed = results.filter { $0.metrics == nil }.count
            print("{\"points\": \(results.count), \"bars\": \(series.count), \"concurrency\": \(concurrency), \"seconds\": \(elapsed), "
                  + "\"bar_evaluations_per_second\": \(Double(results.count * series.count) / elapsed), \"failed\": \(failed)}")
        default:
            throw ValidationError("--mode must be sma, all or sweep")
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}
