import Foundation
import GordonDomain
import GordonKernel
import GordonKlineFiles
import GordonStrategy
import GordonTestDB
import Testing

/// `gordonctl backtest` as an operator meets it: a real child process, its exit status,
/// its output and the files it writes.
func gordonctl(_ arguments: [String]) async throws -> CommandResult {
    try await TestCommand.run("gordonctl", arguments)
}

final class TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "gordonctl-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ text: String) throws -> String {
        let file = path + "/" + name
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    func read(_ name: String) throws -> String { try String(contentsOfFile: path + "/" + name, encoding: .utf8) }
}

@Suite struct BacktestCommandTests {
    /// 3,000 synthetic minutes in Binance's CSV format.
    func dataFile(_ directory: TemporaryDirectory, bars: Int = 3_000) throws -> String {
        let series = SyntheticMarket(seed: 5).generate(count: bars, symbol: try Symbol("BTCUSDT"), interval: .oneMinute,
                                                       startOpenTime: 1_704_067_200_000)
        return try directory.write("BTCUSDT-1m.csv", String(decoding: BinanceKlineCSV.write(series), as: UTF8.self))
    }

    @Test func backtestPrintsASummaryAndWritesItsFiles() async throws {
        let directory = try TemporaryDirectory()
        let csv = try dataFile(directory)
        let out = directory.path + "/report"
        let arguments = ["backtest", "--strategy", "ema_crossover", "--param", "fast=8", "--param", "slow=21",
                         "--overlay", "stop_loss:percent=1.5", "--csv", csv, "--symbol", "BTCUSDT", "--interval", "1m",
                         "--from", "2024-01-01T02:00", "--fees", "7.5,10", "--out", out]
        let result = try await gordonctl(arguments)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("total return"))
        #expect(result.stdout.contains("ema_crossover+stop_loss"))
        let trades = try String(contentsOfFile: out + "/trades.csv", encoding: .utf8)
        #expect(trades.hasPrefix(BacktestReport.tradesHeader))
        let equity = try String(contentsOfFile: out + "/equity.csv", encoding: .utf8)
        #expect(equity.split(separator: "\n").count == 3_000 - 120 + 1)  // --from drops the first two hours
        #expect(try String(contentsOfFile: out + "/equity.svg", encoding: .utf8).contains("<polyline"))
        // Determinism: the same command gives a byte-identical trade list.
        let again = try await gordonctl(arguments)
        #expect(again.status == 0)
        #expect(try String(contentsOfFile: out + "/trades.csv", encoding: .utf8) == trades)
    }

    @Test func walkForwardAndAblation() async throws {
        let directory = try TemporaryDirectory()
        let csv = try dataFile(directory)
        let walk = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", csv, "--symbol", "BTCUSDT",
                                  "--interval", "1m", "--walk-forward", "1000:500", "--grid", "fast=5,10", "--grid", "slow=30,60"])
        #expect(walk.status == 0, "\(walk.stderr)")
        #expect(walk.stdout.contains("4 windows"))
        let ablation = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", csv, "--symbol", "BTCUSDT",
                                      "--interval", "1m", "--overlay", "trailing_stop", "--overlay", "cooldown", "--ablation"])
        #expect(ablation.status == 0, "\(ablation.stderr)")
        #expect(ablation.stdout.contains("without trailing_stop"))
        #expect(ablation.stdout.contains("without cooldown"))
    }

    /// Bad input: exit status 2 and exactly one line on stderr saying what is wrong.
    @Test(arguments: [
        (["--strategy", "sma_crosover"], "unknown strategy 'sma_crosover'"),
        (["--strategy", "sma_crossover", "--param", "fsat=3"], "unknown parameter 'fsat'"),
        (["--strategy", "sma_crossover", "--param", "fast=abc"], "'abc' is not a number"),
        (["--strategy", "sma_crossover", "--overlay", "stop_lose"], "unknown overlay 'stop_lose'"),
        (["--strategy", "sma_crossover", "--fees", "ten"], "--fees"),
        (["--strategy", "sma_crossover", "--from", "yesterday"], "--from must be"),
    ])
    func badInputIsOneClearLine(extra: [String], message: String) async throws {
        let directory = try TemporaryDirectory()
        let csv = try dataFile(directory, bars: 200)
        let result = try await gordonctl(["backtest", "--csv", csv, "--symbol", "BTCUSDT", "--interval", "1m"] + extra)
        #expect(result.status == 2)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test func missingFileWrongColumnsAndGapsAreExplained() async throws {
        let directory = try TemporaryDirectory()
        let missing = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", directory.path + "/nope.csv",
                                     "--symbol", "BTCUSDT", "--interval", "1m"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("nope.csv"))
        let bad = try directory.write("bad.csv", "1704067200000,100,101,99,100,5,1704067259999,500,3,2,200,0\n1704067260000,100,101\n")
        let columns = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", bad, "--symbol", "BTCUSDT", "--interval", "1m"])
        #expect(columns.status == 2)
        #expect(columns.stderr.contains("line 2"), "\(columns.stderr)")
        #expect(columns.stderr.split(separator: "\n").count == 1)

        let series = SyntheticMarket(seed: 5).generate(count: 100, symbol: try Symbol("BTCUSDT"), interval: .oneMinute,
                                                       startOpenTime: 1_704_067_200_000)
        var lines = String(decoding: BinanceKlineCSV.write(series), as: UTF8.self).split(separator: "\n")
        lines.removeSubrange(40..<43)
        let gappy = try directory.write("gappy.csv", lines.joined(separator: "\n") + "\n")
        let gap = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", gappy, "--symbol", "BTCUSDT", "--interval", "1m"])
        #expect(gap.status == 2)
        #expect(gap.stderr.contains("3 1m kline(s) missing"), "\(gap.stderr)")
        let allowed = try await gordonctl(["backtest", "--strategy", "sma_crossover", "--csv", gappy, "--symbol", "BTCUSDT",
                                     "--interval", "1m", "--allow-gaps"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
    }

    @Test func aPlanFileDescribesTheWholeSetup() async throws {
        let directory = try TemporaryDirectory()
        let csv = try dataFile(directory)
        let plan = try directory.write("plan.json", #"""
            {"strategy": {"name": "rsi_mean_reversion", "parameters": {"period": 10}},
             "overlays": [{"name": "trailing_stop", "parameters": {"percent": 1}}],
             "sizing": {"name": "fixed_fraction", "parameters": {"fraction": 0.5}}, "maxExposure": 0.8}
            """#)
        let result = try await gordonctl(["backtest", "--plan", plan, "--csv", csv, "--symbol", "BTCUSDT", "--interval", "1m"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("rsi_mean_reversion+trailing_stop"))

        let broken = try directory.write("broken.json", #"{"overlays": []}"#)
        let bad = try await gordonctl(["backtest", "--plan", broken, "--csv", csv, "--symbol", "BTCUSDT", "--interval", "1m"])
        #expect(bad.status == 2)
        #expect(bad.stderr.split(separator: "\n").count == 1)
        #expect(bad.stderr.contains("missing strategy"), "\(bad.stderr)")
        let both = try await gordonctl(["backtest", "--plan", plan, "--strategy", "sma_crossover", "--csv", csv, "--symbol", "BTCUSDT",
                                  "--interval", "1m"])
        #expect(both.status == 2 && both.stderr.contains("not both"))
    }

    @Test func strategiesListsEveryName() async throws {
        let result = try await gordonctl(["strategies"])
        #expect(result.status == 0)
        for descriptor in StrategyCatalog.all { #expect(result.stdout.contains(descriptor.name)) }
        #expect(result.stdout.contains("trailing_stop"))
        #expect(result.stdout.contains("kelly"))
    }
}
