import ArgumentParser
import GordonDomain
import GordonKlineFiles
import GordonStrategy

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write seeded synthetic klines in Binance's public-data CSV format (for tests and benchmarks)."
    )

    @Option(help: "Number of bars.") var bars: Int
    @Option(help: "Generator seed: the same seed gives the same file.") var seed: UInt64 = 1
    @Option(help: "Symbol.") var symbol: String = "BTCUSDT"
    @Option(help: "Kline interval.") var interval: String = "1m"
    @Option(help: "First open time, epoch milliseconds (default 2020-01-01).") var start: Int64 = 1_577_836_800_000
    @Option(help: "Output CSV file.") var out: String

    func run() throws {
        guard bars > 0 else { throw ValidationError("--bars must be positive") }
        let series = SyntheticMarket(seed: seed).generate(count: bars, symbol: try Symbol(symbol),
                                                          interval: try Interval(parsing: interval), startOpenTime: start)
        try KlineFileLoader.write(BinanceKlineCSV.write(series), to: out)
        print("wrote \(bars) bars to \(out)")
    }
}
