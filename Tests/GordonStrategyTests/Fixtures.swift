import GordonDomain
import GordonKernel
@testable import GordonStrategy

/// Bars from closes: each opens at the previous close, with half a unit of wick either side,
/// so every crafted series below has a range that hand arithmetic can follow.
func craftedSeries(_ closes: [Double], interval: Interval = .oneMinute, decimals: Int = 2) -> BarSeries {
    var series = BarSeries(symbol: try! Symbol("BTCUSDT"), interval: interval, priceDecimals: decimals)
    var previous = closes.first ?? 0
    for (index, close) in closes.enumerated() {
        let open = previous
        series.append(Bar(openTime: 1_700_000_040_000 + Int64(index) * 60_000, open: open,
                          high: max(open, close) + 0.5, low: min(open, close) - 0.5, close: close, volume: 10))
        previous = close
    }
    return series
}

/// The strategy's signals bar by bar, as the live bot would see them (flat throughout).
func signals(_ strategy: any Strategy, on series: BarSeries, fearGreed: AlternativeSeries = .empty) -> [(Int, Signal)] {
    var strategy = strategy
    var context = MarketContext(series: series, fearGreed: fearGreed)
    var found: [(Int, Signal)] = []
    while context.advance() {
        let signal = strategy.next(context)
        if signal != .hold { found.append((context.index, signal)) }
    }
    return found
}

func firstEntry(_ list: [(Int, Signal)]) -> Int? { list.first { $0.1.isEntry }?.0 }
func firstExit(after index: Int?, _ list: [(Int, Signal)]) -> Int? {
    guard let index else { return nil }
    return list.first { $0.0 > index && $0.1.isExit }?.0
}

func strategy(_ name: String, _ parameters: [String: Double] = [:]) throws -> any Strategy {
    try StrategyCatalog.make(StrategyConfig(name: name, parameters: parameters))
}

/// Enters on every bar while flat (to test overlays in isolation).
struct AlwaysEnter: Strategy {
    var name: String { "always_enter" }
    var warmUp: Int { 1 }
    mutating func next(_ context: MarketContext) -> Signal { .enterLong(reason: "always") }
}

func decimal(_ text: String) -> ExactDecimal { try! ExactDecimal(parsing: text) }
