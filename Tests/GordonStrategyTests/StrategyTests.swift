import Foundation
import GordonDomain
import GordonKernel
import Testing
@testable import GordonStrategy

/// Each strategy on a series crafted so its entry and exit bars follow by hand (the
/// arithmetic is in the comments).
@Suite struct StrategySignalTests {
    @Test func smaCrossover() throws {
        // SMA2 − SMA4 from bar 3: +1, −0.25, −2.25, −1.75, +0.5, +2.75, +0.25, −3.75: below
        // at 4, above at 7, below at 10.
        let list = signals(try strategy("sma_crossover", ["fast": 2, "slow": 4]),
                           on: craftedSeries([10, 11, 12, 13, 9, 8, 7, 12, 14, 6, 5]))
        #expect(list.map(\.0) == [4, 7, 10])
        #expect(list.map(\.1.isEntry) == [false, true, false])
    }

    @Test func emaCrossover() throws {
        // A steady decline keeps EMA2 below EMA4; the jump at bar 10 lifts EMA2 above; the
        // drop at bar 15 puts it back below.
        let closes = (0..<10).map { 110.0 - Double($0) } + [130, 130, 130, 130, 130, 80]
        let list = signals(try strategy("ema_crossover", ["fast": 2, "slow": 4]), on: craftedSeries(closes))
        #expect(firstEntry(list) == 10)
        #expect(firstExit(after: 10, list) == 15)
    }

    @Test func rsiMeanReversion() throws {
        // Flat: RSI 50. Bar 20 falls 1: average gain 0, so RSI 0 < 30. Bar 25 rises 101:
        // average gain 101/14 against a loss of (1/14)(13/14)^5, RSI ≈ 99 > 70.
        let closes = Array(repeating: 100.0, count: 20) + [99, 99, 99, 99, 99, 200]
        let list = signals(try strategy("rsi_mean_reversion"), on: craftedSeries(closes))
        #expect(firstEntry(list) == 20)
        #expect(firstExit(after: 20, list) == 25)
    }

    @Test func bollingerReversion() throws {
        // Bar 25 closes 90: mean 99.5, population σ √4.75 ≈ 2.18, lower band ≈ 95.1 > 90.
        // Bar 26 closes 100 > middle 99.5.
        let closes = Array(repeating: 100.0, count: 25) + [90, 100]
        let list = signals(try strategy("bollinger_reversion"), on: craftedSeries(closes))
        #expect(firstEntry(list) == 25)
        #expect(firstExit(after: 25, list) == 26)
    }

    @Test func bollingerSqueezeBreakout() throws {
        // Wide alternation, then 25 flat bars: width 0 against a positive 40-bar average is
        // a squeeze; bar 85 closes 110 above the upper band (≈104.9); bar 86 closes 90,
        // below the middle (100).
        let wide = (0..<60).map { $0 % 2 == 0 ? 95.0 : 105.0 }
        let closes = wide + Array(repeating: 100.0, count: 25) + [110, 90]
        let list = signals(try strategy("bollinger_squeeze_breakout", ["lookback": 40]), on: craftedSeries(closes))
        #expect(firstEntry(list) == 85)
        #expect(firstExit(after: 85, list) == 86)
    }

    @Test func donchianBreakout() throws {
        // Bar 30 closes 105 above the prior 20-bar high (100.5); bar 35 closes 95 below the
        // prior 10-bar low (99.5).
        let closes = Array(repeating: 100.0, count: 30) + [105, 105, 105, 105, 105, 95]
        let list = signals(try strategy("donchian_breakout"), on: craftedSeries(closes))
        #expect(firstEntry(list) == 30)
        #expect(firstExit(after: 30, list) == 35)
    }

    @Test func macdSignalCross() throws {
        // An accelerating decline keeps MACD falling below its lagging signal; the jump at
        // bar 20 crosses it above, the crash at bar 21 back below.
        let closes = (0..<20).map { 200.0 - 0.1 * Double($0 * $0) } + [250, 100]
        let list = signals(try strategy("macd_signal_cross", ["fast": 3, "slow": 6, "signal": 3]), on: craftedSeries(closes))
        #expect(firstEntry(list) == 20)
        #expect(firstExit(after: 20, list) == 21)
    }

    @Test func supertrendFollow() throws {
        // Starts up; bar 10 closes 80 below the final lower band (98): down. Bar 15 closes 120
        // above the final upper band (≈83): up. Bar 19 closes 60: down.
        let closes = Array(repeating: 100.0, count: 10) + [80, 80, 80, 80, 80, 120, 120, 120, 120, 60]
        let list = signals(try strategy("supertrend_follow", ["period": 3, "multiplier": 1]), on: craftedSeries(closes))
        #expect(list.map(\.0) == [10, 15, 19])
        #expect(list.map(\.1.isEntry) == [false, true, false])
    }

    @Test func adxTrend() throws {
        // Falling 2 a bar: +DM 0, −DM 2, ADX near 100. Bar 15 rises 20: +DM 18 against a
        // smoothed −DM of 4, so +DI crosses above −DI with ADX ≈ 90. Bar 19 falls 38: −DM 36.
        let closes = (0..<15).map { 200.0 - 2 * Double($0) } + [192, 194, 196, 198, 160]
        let list = signals(try strategy("adx_trend", ["period": 3, "threshold": 20]), on: craftedSeries(closes))
        #expect(firstEntry(list) == 15)
        #expect(firstExit(after: 15, list) == 19)
    }

    @Test func stochasticReversal() throws {
        // An accelerating fall makes %K shrink below %D; the small bounce at bar 6 gives
        // %K ≈ 8.3 > %D ≈ 5.7, under 20. An accelerating rally, then the dip at bar 12:
        // %K ≈ 91.7 < %D ≈ 94.3, above 80.
        let closes = [100, 98, 95, 91, 86, 80, 80.5, 82.5, 85.5, 89.5, 94.5, 100.5, 100.0]
        let list = signals(try strategy("stochastic_reversal", ["k_period": 3, "k_smoothing": 1, "d_period": 2]),
                           on: craftedSeries(closes))
        #expect(firstEntry(list) == 6)
        #expect(firstExit(after: 6, list) == 12)
    }

    @Test func keltnerBreakout() throws {
        // Flat with range 1: ATR 1. Bar 10 closes 110: EMA5 103.3 + ATR3 4.33 = 107.7 < 110.
        // Bar 11 closes 95 below the EMA (≈100.6).
        let closes = Array(repeating: 100.0, count: 10) + [110, 95]
        let list = signals(try strategy("keltner_breakout", ["ema_period": 5, "atr_period": 3, "multiplier": 1]),
                           on: craftedSeries(closes))
        #expect(firstEntry(list) == 10)
        #expect(firstExit(after: 10, list) == 11)
    }

    @Test func zScoreReversion() throws {
        // Bar 15 closes 80: mean 98, σ 6, z = −3. Bar 16 closes 100: z = +1/3 > 0.
        let closes = Array(repeating: 100.0, count: 15) + [80, 100]
        let list = signals(try strategy("zscore_reversion", ["period": 10]), on: craftedSeries(closes))
        #expect(firstEntry(list) == 15)
        #expect(firstExit(after: 15, list) == 16)
    }

    @Test func fearGreedContrarian() throws {
        let series = craftedSeries(Array(repeating: 100.0, count: 12))
        let open = series.openTime
        // 15 (extreme fear) is published during bar 5, 80 (greed) during bar 9, and 10 one
        // millisecond after bar 10 closes: bar 10 must not see it.
        let index = AlternativeSeries([(open[0], 50), (open[5] + 1000, 15), (open[9] + 59_999, 80), (open[11], 10)])
        let list = signals(try strategy("fear_greed_contrarian"), on: series, fearGreed: index)
        #expect(firstEntry(list) == 5)
        #expect(firstExit(after: 5, list) == 9)
        #expect(list.first { $0.0 == 10 }?.1.isExit == true)
        #expect(list.last?.0 == 11 && list.last!.1.isEntry)
    }

    @Test func volatilityAdjustedMomentum() throws {
        // Alternating noise, then a rally: the entry is the first bar whose 5-bar log return
        // over (σ of the last 5 log returns × √5) exceeds 1, computed here directly.
        var closes = (0..<20).map { $0 % 2 == 0 ? 100.0 : 101.0 }
        for step in 0..<20 { closes.append(closes.last! * (step % 2 == 0 ? 1.03 : 0.99)) }
        closes += [closes.last! * 0.85]
        func score(_ index: Int) -> Double? {
            guard index >= 5 else { return nil }
            let returns = ((index - 4)...index).map { MathFunctions.log(closes[$0] / closes[$0 - 1]) }
            let mean = returns.reduce(0, +) / 5
            let sigma = (returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4).squareRoot()
            return MathFunctions.log(closes[index] / closes[index - 5]) / (sigma * Double(5).squareRoot())
        }
        let expectedEntry = closes.indices.first { (score($0) ?? 0) > 1 }
        let expectedExit = closes.indices.first { $0 > (expectedEntry ?? .max) && (score($0) ?? 1) < 0 }
        #expect(expectedEntry != nil && expectedEntry! >= 20)
        let list = signals(try strategy("volatility_adjusted_momentum", ["lookback": 5, "vol_period": 5]), on: craftedSeries(closes))
        #expect(firstEntry(list) == expectedEntry)
        #expect(firstExit(after: expectedEntry, list) == expectedExit)
    }

    @Test func everyStrategyRunsOnSyntheticData() throws {
        let series = SyntheticMarket(seed: 7).generate(count: 20_000, symbol: try Symbol("BTCUSDT"), interval: .oneMinute,
                                                       startOpenTime: 1_577_836_800_000)
        #expect(StrategyCatalog.all.count == 14)
        #expect(Set(StrategyCatalog.all.map(\.name)).count == 14)
        for descriptor in StrategyCatalog.all {
            let result = try Backtester().run(TradingPlan(strategy: StrategyConfig(name: descriptor.name)), on: series)
            #expect(result.equity.count == series.count)
            if descriptor.name != "fear_greed_contrarian" {
                #expect(!result.trades.isEmpty, "\(descriptor.name) never traded")
            }
        }
    }
}

@Suite struct StrategyConfigTests {
    @Test func unknownStrategyListsTheKnownOnes() {
        #expect {
            _ = try StrategyCatalog.make(StrategyConfig(name: "sma_crosover"))
        } throws: { error in
            let error = error as! GordonError
            return error.code == .unknownStrategy && error.message.contains("sma_crossover")
        }
    }

    @Test(arguments: [
        (["fsat": 3.0], "unknown parameter 'fsat'"),
        (["fast": 0.0], "outside"),
        (["fast": 2.5], "whole number"),
        (["fast": 30.0, "slow": 10.0], "fast must be below slow"),
    ])
    func badParametersAreExplained(parameters: [String: Double], message: String) {
        #expect {
            _ = try StrategyCatalog.make(StrategyConfig(name: "sma_crossover", parameters: parameters))
        } throws: { error in
            let error = error as! GordonError
            return error.code == .invalidStrategyParameter && error.message.contains(message)
        }
    }

    @Test func everyDefaultIsValid() throws {
        for descriptor in StrategyCatalog.all {
            let built = try descriptor.make()
            #expect(built.name == descriptor.name)
            #expect(built.warmUp >= 1)
        }
        for descriptor in Overlay.catalog { _ = try Overlay(StrategyConfig(name: descriptor.name)) }
        for descriptor in Sizing.catalog { _ = try Sizing(StrategyConfig(name: descriptor.name)) }
    }

    @Test func planDecodesFromJSON() throws {
        let json = #"{"strategy":{"name":"ema_crossover","parameters":{"fast":5,"slow":20}},"overlays":[{"name":"stop_loss","parameters":{"percent":2}}]}"#
        let plan = try JSONDecoder().decode(TradingPlan.self, from: Data(json.utf8))
        #expect(plan.strategy == StrategyConfig(name: "ema_crossover", parameters: ["fast": 5, "slow": 20]))
        #expect(plan.overlays.map(\.name) == ["stop_loss"])
        #expect(plan.sizing.name == "fixed_fraction")
        #expect(try plan.makeStrategy().name == "ema_crossover+stop_loss")
    }
}
