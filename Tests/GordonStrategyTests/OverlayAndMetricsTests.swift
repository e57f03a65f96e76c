import GordonDomain
import GordonKernel
import Testing
@testable import GordonStrategy

/// Each overlay on a crafted series behind `AlwaysEnter`, run through the backtester: the
/// entry fills at bar 1's open (100), and the overlay's exit is the bar named in each test.
@Suite struct OverlayTests {
    func run(_ overlays: [Overlay], _ closes: [Double]) throws -> BacktestResult {
        let series = craftedSeries(closes)
        return try Backtester(settings: BacktestSettings(fees: .free, closeAtEnd: false))
            .run(strategy: OverlaidStrategy(AlwaysEnter(), overlays: overlays), on: series)
    }

    @Test func stopLossExitsAtTheFirstCloseBelowTheStop() throws {
        // Entry at 100; 2% stop = 98: bar 4 closes 97.9.
        let result = try run([.stopLoss(percent: 2)], [100, 100, 99, 98.5, 97.9, 97, 96])
        #expect(result.trades.first?.exitReason == "stop_loss")
        #expect(result.trades.first?.exitIndex == 5)  // signalled at bar 4's close, filled at bar 5's open
        #expect(result.trades.first?.entryIndex == 1)
    }

    @Test func atrStopUsesTheATRAtEntry() throws {
        // Range 1 on flat bars: ATR(3) is still warming up at the entry (bar 1), so the
        // first ATR, 1 at bar 2, is used; 2 ATRs below 100 = 98: bar 5 closes 97.5.
        let result = try run([.atrStop(period: 3, multiple: 2)], [100, 100, 100, 100, 99, 97.5, 97])
        #expect(result.trades.first?.exitReason == "atr_stop")
        #expect(result.trades.first?.exitIndex == 6)
    }

    @Test func takeProfitExitsAtTheTarget() throws {
        let result = try run([.takeProfit(percent: 5)], [100, 100, 102, 104, 105, 106])
        #expect(result.trades.first?.exitReason == "take_profit")
        #expect(result.trades.first?.exitIndex == 5)
    }

    @Test func trailingStopFollowsTheHighestClose() throws {
        // Highest close 120 at bar 3; 10% trail = 108: bar 5 closes 107.
        let result = try run([.trailingStop(percent: 10)], [100, 100, 110, 120, 110, 107, 100])
        #expect(result.trades.first?.exitReason == "trailing_stop")
        #expect(result.trades.first?.exitIndex == 6)
    }

    @Test func timeStopExitsAfterTheHoldingPeriod() throws {
        // Entry fills at bar 1; held 3 bars at bar 4's close.
        let result = try run([.timeStop(bars: 3)], Array(repeating: 100, count: 8))
        #expect(result.trades.first?.exitReason == "time_stop")
        #expect(result.trades.first?.exitIndex == 5)
    }

    @Test func cooldownDelaysTheNextEntry() throws {
        // Time stop after 1 bar: exit fills at bar 3; cooldown 4: no entry signal until bar
        // 7's close, filled at bar 8. Without the cooldown the next entry fills at bar 4.
        let closes = Array(repeating: 100.0, count: 12)
        let with = try run([.timeStop(bars: 1), .cooldown(bars: 4)], closes)
        let without = try run([.timeStop(bars: 1)], closes)
        #expect(without.trades.map(\.entryIndex).prefix(2) == [1, 4])
        #expect(with.trades.map(\.entryIndex).prefix(2) == [1, 8])
    }

    @Test func regimeFilterBlocksEntriesBelowTheAverage() throws {
        // SMA(3) needs 3 bars; closes fall until bar 4, so the first close above its SMA
        // is bar 5 (98 > (97+97+98)/3 = 97.3), and the entry fills at bar 6.
        let result = try run([.regimeFilter(period: 3)], [100, 99, 98, 97, 97, 98, 103, 104, 105])
        #expect(result.trades.isEmpty)
        #expect(result.inPosition.firstIndex(of: true) == 6)
    }

    @Test func overlaysComposeOnAnyStrategy() throws {
        let base = try StrategyCatalog.make(StrategyConfig(name: "rsi_mean_reversion"))
        let composed = OverlaidStrategy(base, overlays: [.stopLoss(percent: 3), .cooldown(bars: 5)])
        #expect(composed.name == "rsi_mean_reversion+stop_loss+cooldown")
        #expect { try Overlay(StrategyConfig(name: "stop_lose")) } throws: { ($0 as! GordonError).code == .unknownStrategy }
        #expect { try Overlay(StrategyConfig(name: "stop_loss", parameters: ["percent": 150])) } throws: {
            ($0 as! GordonError).code == .invalidStrategyParameter
        }
    }
}

@Suite struct MetricsTests {
    @Test func handComputedFigures() {
        // Start 100; equity 110, 99, 121: total +21%, drawdown 11/110 = 10% lasting 1 bar.
        let metrics = Metrics(equity: [110, 99, 121], inPosition: [true, true, false], tradeProfits: [15, -4, 10],
                              tradeReturns: [0.15, -0.04, 0.1], startEquity: 100, barsPerYear: 3)
        #expect(abs(metrics.totalReturn - 0.21) < 1e-12)
        #expect(abs(metrics.annualisedReturn - 0.21) < 1e-12)  // one year of bars
        #expect(abs(metrics.maxDrawdown - 0.1) < 1e-12)
        #expect(metrics.maxDrawdownBars == 1)
        #expect(abs(metrics.winRate - 2.0 / 3) < 1e-12)
        #expect(abs(metrics.profitFactor - 25.0 / 4) < 1e-12)
        #expect(abs(metrics.exposure - 2.0 / 3) < 1e-12)
        #expect(abs(metrics.averageTradeProfit - 7) < 1e-12)
        // Returns 0.1, −0.1, 2/9: mean 0.0740…, sample σ 0.1611…, × √3.
        let returns = [0.1, -0.1, 22.0 / 99]
        let mean = returns.reduce(0, +) / 3
        let sigma = (returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 2).squareRoot()
        #expect(abs(metrics.sharpe - mean / sigma * Double(3).squareRoot()) < 1e-12)
        #expect(abs(metrics.sortino - mean / (0.01 / 3).squareRoot() * Double(3).squareRoot()) < 1e-12)
        #expect(abs(metrics.calmar - 2.1) < 1e-9)
    }

    @Test func noTradesAndNoLosses() {
        let flat = Metrics(equity: [100, 100], inPosition: [false, false], tradeProfits: [], tradeReturns: [],
                           startEquity: 100, barsPerYear: 365)
        #expect(flat.tradeCount == 0 && flat.profitFactor == 0 && flat.sharpe == 0 && flat.maxDrawdown == 0)
        let winners = Metrics(equity: [101], inPosition: [false], tradeProfits: [1], tradeReturns: [0.01],
                              startEquity: 100, barsPerYear: 365)
        #expect(winners.profitFactor.isInfinite)
    }

    @Test func logAndExpAgreeWithKnownValues() {
        #expect(abs(MathFunctions.exp(1) - 2.718_281_828_459_045) < 1e-15)
        #expect(abs(MathFunctions.log(10) - 2.302_585_092_994_046) < 1e-15)
        #expect(abs(MathFunctions.log(0.001) + 6.907_755_278_982_137) < 1e-14)
        for x in stride(from: -20.0, through: 20, by: 0.37) {
            #expect(abs(MathFunctions.log(MathFunctions.exp(x)) - x) < 1e-12)
        }
        #expect(abs(Metrics.power(1.21, 0.5) - 1.1) < 1e-15)
    }

    @Test func formatting() {
        #expect(Format.fixed(2.345, 2) == "2.35")
        #expect(Format.fixed(-0.004, 2) == "0.00")
        #expect(Format.fixed(-1.5, 0) == "-2")
        #expect(Format.fixed(0.05, 3) == "0.050")
        #expect(Format.fixed(.infinity, 2) == "inf")
    }
}

@Suite struct WalkForwardTests {
    let series = SyntheticMarket(seed: 11).generate(count: 6_000, symbol: try! Symbol("BTCUSDT"), interval: .oneMinute,
                                                    startOpenTime: 1_577_836_800_000)

    @Test func rollingWindowsPickTheInSampleBestAndStitchOutOfSample() async throws {
        let plan = TradingPlan(strategy: StrategyConfig(name: "sma_crossover"))
        let grid = ParameterGrid(["fast": [5, 10, 20], "slow": [40, 80]])
        #expect(grid.points.count == 6)
        let analysis = WalkForward(inSampleBars: 2_000, outOfSampleBars: 1_000, objective: .totalReturn)
        let report = try await analysis.run(plan, grid: grid, on: series, backtester: Backtester())
        #expect(report.windows.count == 4)
        #expect(report.stitchedEquity.count == 4_000)
        for window in report.windows {
            // The chosen point really is the in-sample best.
            let sweep = await ParameterSweep.run(plan, grid: grid, on: series.slice(window.inSampleRange), backtester: Backtester(),
                                                 concurrency: 1)
            let best = sweep.compactMap(\.metrics).map(\.totalReturn).max()!
            #expect(abs(window.inSampleScore - best) < 1e-12)
            #expect(window.outOfSample.bars == 1_000)
        }
        // Chaining: the stitched curve's total return is the product of the windows'.
        let product = report.windows.reduce(1.0) { $0 * (1 + $1.outOfSample.totalReturn) }
        #expect(abs((1 + report.stitched.totalReturn) - product) < 1e-9)
        let again = try await analysis.run(plan, grid: grid, on: series, backtester: Backtester())
        #expect(again.stitchedEquity == report.stitchedEquity)
    }

    @Test func sweepKeepsInputOrderAndReportsInvalidPoints() async {
        let plan = TradingPlan(strategy: StrategyConfig(name: "sma_crossover"))
        let points = await ParameterSweep.run(plan, grid: ParameterGrid(["fast": [10, 50], "slow": [30]]), on: series,
                                              backtester: Backtester(), concurrency: 2)
        #expect(points.map { $0.parameters["fast"] } == [10, 50])
        #expect(points[0].metrics != nil)
        #expect(points[1].metrics == nil && points[1].error?.message.contains("fast must be below slow") == true)
    }

    @Test func ablationRemovesEachOverlayInTurn() throws {
        let plan = TradingPlan(strategy: StrategyConfig(name: "ema_crossover"),
                               overlays: [StrategyConfig(name: "stop_loss", parameters: ["percent": 0.2]),
                                          StrategyConfig(name: "time_stop", parameters: ["bars": 10])])
        let rows = try Ablation.run(plan, on: series, backtester: Backtester())
        #expect(rows.map(\.label) == ["all overlays", "no overlays", "without stop_loss", "without time_stop"])
        #expect(rows[0].metrics != rows[1].metrics)
        #expect(rows[2].metrics != rows[0].metrics && rows[3].metrics != rows[0].metrics)
    }
}
