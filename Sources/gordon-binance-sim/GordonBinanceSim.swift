import ArgumentParser
import BinanceSim
import GordonCommandLine
import GordonLogging
import GordonPlatform
import GordonDomain
import GordonKernel
import GordonKlineFiles
import GordonStrategy
import Logging
import ServiceLifecycle

/// gordon-binance-sim: a local Binance spot exchange for the local stack, paper trading and
/// tests. Serves Binance's REST paths, WebSocket streams and the WebSocket API's user data
/// subscription on one port; the price feed is
/// replayed from Binance kline files or generated from a seed, one kline per `--pace`
/// (or only on `POST /sim/advance` with `--pace 0`). Faults are switched at run time with
/// `POST /sim/faults`. Stops gracefully on SIGTERM or SIGINT.
@main
struct GordonBinanceSim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-binance-sim",
        abstract: "Run a local Binance-compatible spot exchange (REST, WebSocket streams and API) with fault injection."
    )

    @Option(help: "Address to listen on")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one and prints it)")
    var port = 9443

    @Option(name: .customLong("symbol"), help: "Symbol to list (repeatable); with --csv, exactly one")
    var symbols: [String] = ["BTCUSDT"]

    @Option(help: "Kline interval of the feed")
    var interval = "1m"

    @Option(parsing: .upToNextOption, help: "Binance kline files (.csv or .zip) to replay for the one --symbol")
    var csv: [String] = []

    @Option(help: "Klines to generate per symbol when no --csv is given")
    var synthetic = 100_000

    @Option(help: "Seed of the generated market")
    var seed: UInt64 = 1

    @Option(help: "Open time of the first generated kline (Unix ms)")
    var start: Int64 = 1_704_067_200_000

    @Option(help: "First order and trade id of every symbol (start past the ids of records kept from an earlier run)")
    var firstId: Int64 = 1

    @Option(help: "Klines already published at start (history for warm-up and /klines)")
    var preload = 1000

    @Option(help: "Seconds between published klines; 0 publishes only on POST /sim/advance")
    var pace: Double = 1

    @Option(name: .customLong("balance"), help: "Starting balance ASSET=AMOUNT (repeatable)")
    var balances: [String] = ["USDT=10000"]

    @Option(help: "Keyfile with binance_api_key and binance_api_secret the simulator accepts (mode 0400)")
    var keyfile: String

    @Option(help: "Maker,taker commission in basis points")
    var fees = "10,10"

    static func main() async {
        await CommandLineEntry.main(GordonBinanceSim.self, failureStatus: 2)
    }

    func run() async throws {
        ProcessLogging.bootstrap(service: "gordon-binance-sim", redactor: redactor)
        let logger = Logger(label: "gordon.binance-sim")
        let simulator = try makeSimulator()
        let metrics = MetricsRegistry()
        metrics.bootstrapMetricsSystem()
        metrics.sampledGauge(name: "gordon_sim_stream_connections", help: "Open WebSocket stream connections") {
            Double(simulator.streamConnectionCount)
        }
        metrics.sampledGauge(name: "gordon_sim_open_orders", help: "Orders resting on the simulated book") {
            Double(simulator.openOrders().count)
        }
        metrics.sampledGauge(name: "gordon_sim_requests", help: "REST and WebSocket API requests answered") {
            Double(simulator.requestLog.count)
        }
        // The simulator depends on nothing outside the process: listening is being ready.
        let readiness = Readiness()
        let server = SimHTTPServer(simulator: simulator, host: host, port: port, logger: logger)
        let app = server.application(ownRoutes: { request in
            await ServiceHTTP.probeResponse(path: request.uri.path, metrics: metrics, readiness: readiness)
        }, onRunning: { [host, symbols] port in
            GordonService.announce("gordon-binance-sim listening on http://\(host):\(port)")
            logger.info("listening", metadata: ["port": "\(port)", "symbols": "\(symbols.joined(separator: ","))"])
        })
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: app)]
        if pace > 0 { services.append(.init(service: PacingService(simulator: simulator, pace: .milliseconds(Int64(pace * 1000))))) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    private func makeSimulator() throws(GordonError) -> BinanceSimulator {
        let interval = try Interval(parsing: interval)
        let symbols = try symbols.map { text throws(GordonError) in try Symbol(text) }
        guard !symbols.isEmpty else { throw GordonError(.invalidBacktestConfig, "--symbol: at least one is needed") }
        guard firstId >= 1 else { throw GordonError(.invalidBacktestConfig, "--first-id must be at least 1", context: ["value": "\(firstId)"]) }
        var series: [BarSeries] = []
        if !csv.isEmpty {
            guard symbols.count == 1 else { throw GordonError(.invalidBacktestConfig, "--csv replays one symbol; give exactly one --symbol") }
            series.append(try KlineFileLoader.load(paths: csv, symbol: symbols[0], interval: interval))
        } else {
            guard synthetic > preload else { throw GordonError(.invalidBacktestConfig, "--synthetic must be larger than --preload") }
            for (index, symbol) in symbols.enumerated() {
                let market = SyntheticMarket(seed: seed &+ UInt64(index), startPrice: 30_000 / Double(index + 1), priceDecimals: 2)
                series.append(market.generate(count: synthetic, symbol: symbol, interval: interval, startOpenTime: start))
            }
        }
        var starting: [Asset: ExactDecimal] = [:]
        for entry in balances {
            let parts = entry.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw GordonError(.invalidBacktestConfig, "--balance must be ASSET=AMOUNT", context: ["value": entry]) }
            starting[try Asset(parts[0])] = try ExactDecimal(parsing: parts[1])
        }
        let feeParts = fees.split(separator: ",")
        guard feeParts.count == 2 else { throw GordonError(.invalidBacktestConfig, "--fees must be MAKER,TAKER in basis points", context: ["value": fees]) }
        let feeModel = try FeeModel(makerBps: ExactDecimal(parsing: feeParts[0]), takerBps: ExactDecimal(parsing: feeParts[1]))
        let keys = try Keyfile.load(path: keyfile)
        redactor.register(keys.values.map { $0.withPlainText { $0 } })
        let apiKey = try keys.secret(Keyfile.binanceAPIKey).withPlainText { $0 }
        var configuration = SimConfiguration(
            symbols: try symbols.map { symbol throws(GordonError) in try SimConfiguration.spotSymbol(symbol) },
            fees: feeModel, balances: starting,
            apiKeys: [SimAPIKey(apiKey: apiKey, secretKey: try keys.secret(Keyfile.binanceAPISecret))])
        configuration.firstId = firstId
        return BinanceSimulator(configuration: configuration, feed: try SimMarketFeed(series: series, preloaded: preload))
    }
}

/// Publishes one kline per `pace` until the feed runs out or shutdown begins.
struct PacingService: Service {
    let simulator: BinanceSimulator
    let pace: Duration

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                if (try? await Task.sleep(for: pace)) == nil { return }
                if simulator.advance().isEmpty { return }
            }
        }
    }
}

/// Every value of the keyfile, kept out of the log lines.
private let redactor = SecretRedactor()
