import ArgumentParser
import Foundation
import GordonDomain
import GordonKernel
import GordonRisk

/// The cost of gordon-risk's evaluation: the portfolio valued (equity and gross exposure)
/// and the five breakers evaluated, as `RiskMonitor` does each tick, for `--bots` bots each
/// holding every one of `--symbols` symbols and sending orders. Prints the time per
/// evaluation and the share of one core it takes at `--rate` evaluations per second.
@main
struct RiskBench: ParsableCommand {
    @Option var bots = 20
    @Option var symbols = 50
    @Option(help: "Evaluations per second gordon-risk runs (its default is 30).") var rate = 30
    @Option(help: "Evaluations timed per run.") var evaluations = 20_000
    @Option(help: "Runs; the fastest is reported.") var runs = 5

    func run() throws {
        let botIds = try (0..<bots).map { try BotId("bot-\($0)") }
        let symbolIds = try (0..<symbols).map { try Symbol("S\($0)USDT") }
        var portfolio = Portfolio()
        var holdings: [Portfolio.Key: Portfolio.Holding] = [:]
        for (b, bot) in botIds.enumerated() {
            portfolio.setAllocation(ExactDecimal(1000), of: bot)
            for (s, symbol) in symbolIds.enumerated() {
                holdings[Portfolio.Key(bot: bot, symbol: symbol)] = Portfolio.Holding(
                    quantity: ExactDecimal(significand: Int128(1 + (b * 7 + s) % 13), scale: 3),
                    averageEntryPrice: ExactDecimal(significand: Int128(100_000 + s * 37), scale: 2),
                    realisedProfit: ExactDecimal(significand: Int128((b - s) * 11), scale: 2))
            }
        }
        portfolio.replaceHoldings(holdings)
        for (s, symbol) in symbolIds.enumerated() { portfolio.priceClosed(symbol, at: ExactDecimal(significand: Int128(100_500 + s), scale: 2)) }
        var limits = RiskLimits()
        limits.maxGrossExposure = ExactDecimal(10_000_000)
        var best = Double.infinity
        var checksum = ExactDecimal.zero
        for _ in 0..<runs {
            var breakers = Breakers(limits: limits)
            let start = ContinuousClock.now
            for tick in 0..<evaluations {
                let at = Timestamp(milliseconds: 1_780_000_000_000 + Int64(tick) * 33)
                // A kline closes and an order is sent now and then, as in a live book.
                if tick % 30 == 0 {
                    let symbol = symbolIds[tick / 30 % symbols]
                    portfolio.priceClosed(symbol, at: ExactDecimal(significand: Int128(100_000 + tick % 997), scale: 2))
                    breakers.orderSent(by: botIds[tick / 30 % bots], at: at)
                }
                let equity = try portfolio.equity()
                let sample = RiskSample(at: at, equity: equity, grossExposure: try portfolio.grossExposure(), lastHeard: ["klines": at])
                _ = try breakers.evaluate(sample)
                if let equity { checksum = equity }
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = min(best, seconds / Double(evaluations))
        }
        print("risk evaluation, \(bots) bots × \(symbols) symbols (\(bots * symbols) positions): "
              + String(format: "%.1f µs per evaluation; at %d Hz %.2f %% of one core", best * 1e6, rate, best * Double(rate) * 100)
              + " (equity \(checksum))")
    }
}
