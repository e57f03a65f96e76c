import ArgumentParser
import GordonBus
import GordonCommandLine
import GordonData
import GordonDomain
import GordonExchange
import GordonKernel
import GordonPlatform
import GordonPostgres
import Logging
import ServiceLifecycle
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// gordon-data: the sole writer of `market_data`. Ingests closed Binance klines for each
/// `--kline SYMBOL@interval` into `market_data.klines` and publishes each as a `KlineEvent`
/// on `gordon.market.kline.<SYMBOL>.<interval>`; serves `/klines`, `/api/v3/klines` and
/// `/warmup` besides `/healthz`, `/readyz` and `/metrics`. It uses Binance's public
/// endpoints only and holds no exchange key.
@main
struct GordonDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gordon-data",
        abstract: "Ingest market data into market_data and the GORDON stream, and serve it over HTTP.",
        subcommands: [Serve.self, Backfill.self, Import.self],
        defaultSubcommand: Serve.self
    )

    static func main() async {
        await CommandLineEntry.main(GordonDataCommand.self, failureStatus: 1)
    }
}

/// The service (the default).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the service (the default).")

    @OptionGroup var service: ServiceOptions

    @Option(help: "Binance: live, testnet, or http://HOST:PORT of a simulator")
    var binance = "live"

    @Option(name: .customLong("kline"), help: "A kline series to ingest, SYMBOL@interval, e.g. BTCUSDT@1m (repeatable)")
    var klines: [String] = []

    @Option(help: "Base URL of alternative.me's Fear & Greed API (https://api.alternative.me, or a simulator's URL); none: not polled")
    var fearGreed: String?

    @Option(help: "Base URL of Deribit's API (https://www.deribit.com, or a simulator's URL); none: not polled")
    var deribit: String?

    @Option(help: "Deribit currencies whose DVOL index is polled, comma-separated")
    var deribitCurrencies = "BTC,ETH"

    @Option(help: "Deribit perpetuals whose funding rate and open interest are polled, comma-separated")
    var deribitPerpetuals = "BTC-PERPETUAL,ETH-PERPETUAL"

    @Option(help: "Base URL of the FRED API (https://api.stlouisfed.org, or a simulator's URL); needs fred_api_key in the keyfile; none: not polled")
    var fred: String?

    @Option(help: "FRED series polled, comma-separated")
    var fredSeries = "DFF,DGS10,CPIAUCSL"

    @Flag(help: "Create or update the GORDON stream before ingesting")
    var ensureStream = false

    @Option(help: "Where gordon-manager leaves kline files for import (gordonctl data import); none: imports are refused")
    var importDirectory: String?

    func validate() throws {
        guard !klines.isEmpty else { throw ValidationError("give at least one --kline SYMBOL@interval") }
        _ = try series()
        _ = try exchange(binance)
        _ = try deribitSources()
        if fred != nil { _ = try fredSeriesIds() }
    }

    func deribitSources() throws -> [any MetricSource] {
        do {
            let currencies = try list(deribitCurrencies).map { currency throws(GordonError) in try DeribitVolatilitySource(currency: currency) as any MetricSource }
            let perpetuals = try list(deribitPerpetuals).flatMap { instrument throws(GordonError) -> [any MetricSource] in
                [try DeribitFundingSource(instrument: instrument), try DeribitOpenInterestSource(instrument: instrument)]
            }
            return currencies + perpetuals
        } catch let error as GordonError {
            throw ValidationError("--deribit-currencies/--deribit-perpetuals: \(error.message)")
        }
    }

    func fredSeriesIds() throws -> [String] {
        let ids = list(fredSeries)
        guard !ids.isEmpty else { throw ValidationError("--fred-series: give at least one FRED series id") }
        return ids
    }

    func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    func series() throws -> [KlineSeriesKey] {
        try klines.map { text in
            let parts = text.split(separator: "@")
            guard parts.count == 2 else { throw ValidationError("--kline \(text): expected SYMBOL@interval, e.g. BTCUSDT@1m") }
            return try seriesKey(String(parts[0]), String(parts[1]), what: "--kline \(text)")
        }
    }

    func run() async throws {
        let identity = ServiceIdentity(name: "gordon-data", databaseRole: "gordon_data_writer", httpPort: 8081)
        let series = try series()
        let endpoint = try exchange(binance)
        let ensureStream = ensureStream
        var sources: [(any MetricSource, String)] = []
        if let fearGreed { sources.append((FearAndGreedSource(), fearGreed)) }
        if let deribit { sources += try deribitSources().map { ($0, deribit) } }
        let fred = fred
        let fredSeries = fred == nil ? [] : try fredSeriesIds()
        await GordonService.main(identity, configuration: { try service.configuration(identity, defaultPort: 8081) }) { context in
            if ensureStream { try await GordonStream.ensure(context.jetStream, logger: context.logger) }
            let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: endpoint), logger: context.logger)
            let store = KlineStore(database: context.database, logger: context.logger)
            let ingest = KlineIngest(series: series, rest: rest, store: store,
                                     publisher: JetStreamEventPublisher(jetStream: context.jetStream), logger: context.logger)
            DataRoutes.register(on: context.router, store: store, metrics: MetricStore(database: context.database, logger: context.logger))
            DataMetrics.export(ingest, to: context.metrics)
            var polled = sources
            if let fred {
                // The FRED key is a keyfile value like the passwords, so the runner masks it in logs.
                let key = try context.keyfile.secret(Keyfile.fredAPIKey)
                polled += try fredSeries.map { (try FREDSource(seriesId: $0, apiKey: key), fred) }
            }
            let backfills = BackfillRequests(rest: rest, store: store, database: context.database, logger: context.logger,
                                             importDirectory: importDirectory)
            var services: [any Service] = [IngestService(ingest: ingest), BackfillRequestService(requests: backfills)]
            for (source, baseURL) in polled {
                let poller = MetricPoller(source: source, baseURL: baseURL, database: context.database,
                                          publisher: JetStreamEventPublisher(jetStream: context.jetStream), logger: context.logger)
                DataMetrics.export(poller, to: context.metrics)
                services.append(PollerService(poller: poller))
            }
            return services
        }
    }
}

/// The backfills operators filed through gordon-manager.
struct BackfillRequestService: Service {
    let requests: BackfillRequests

    func run() async throws {
        await cancelWhenGracefulShutdown { await requests.run() }
    }
}

struct PollerService: Service {
    let poller: MetricPoller

    func run() async throws {
        await cancelWhenGracefulShutdown { await poller.run() }
    }
}

struct IngestService: Service {
    let ingest: KlineIngest

    func run() async throws {
        await cancelWhenGracefulShutdown { await ingest.run() }
    }
}

/// How the one-shot commands reach market_data: as gordon-data's role, password from its keyfile.
struct WriterOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL without a password, e.g. postgres://gordon_data_writer@127.0.0.1:5432/gordon")
    var databaseURL: String

    @Option(help: "Keyfile with postgres_password (mode 0400)")
    var keyfile: String

    @Option(help: "Symbol, e.g. BTCUSDT")
    var symbol: String

    @Option(help: "Kline interval, e.g. 1m")
    var interval: String

    func series() throws -> KlineSeriesKey { try seriesKey(symbol, interval, what: "--symbol/--interval") }

    /// Runs `body` with a store on a pool of its own, closed afterwards.
    func withStore<T>(_ body: (KlineStore, Logger) async throws -> T) async throws -> T {
        var logger = Logger(label: "gordon.gordon-data.bulk")
        logger.logLevel = .warning
        let key = try Keyfile.load(path: keyfile)
        let url = try DatabaseURL(parsing: databaseURL)
        let pool = Database.makePool(url.with(username: url.username, password: try key.secret(Keyfile.postgresPassword)), logger: logger)
        let running = Task { await pool.run() }
        defer { running.cancel() }
        return try await body(KlineStore(database: pool, logger: logger), logger)
    }
}

/// A one-shot historical backfill of one series into market_data.klines, as gordon-data's
/// role: rows already stored are skipped, so it can be repeated or run beside the service.
struct Backfill: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Backfill one kline series over Binance's REST API into market_data.klines, printing progress.")

    @OptionGroup var writer: WriterOptions

    @Option(help: "Binance: live, testnet, or http://HOST:PORT of a simulator")
    var binance = "live"

    @Option(help: "First open time: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch milliseconds")
    var from: String

    @Option(help: "Last open time, in the same forms (default: now)")
    var to: String?

    func run() async throws {
        let series = try writer.series()
        let lower = try CommandLineTime.milliseconds(from, what: "--from")
        let upper = try to.map { try CommandLineTime.milliseconds($0, what: "--to") } ?? Int64(Date().timeIntervalSince1970 * 1000)
        let backfill = try KlineBackfill(series: series, from: lower, to: upper)
        let endpoint = try exchange(binance)
        try await writer.withStore { store, logger in
            let rest = BinanceRESTClient(configuration: try BinanceClientConfiguration(endpoint: endpoint), logger: logger)
            print("backfilling \(series) from \(Timestamp(milliseconds: lower)) to \(Timestamp(milliseconds: upper))")
            let done = try await backfill.run(rest: rest, store: store) { progress in print(progress.line) }
            print("done: \(done.line)")
        }
    }
}

/// A one-shot import of Binance public-data kline files (data.binance.vision) into
/// market_data.klines, as gordon-data's role: rows already stored are skipped.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Import Binance public-data kline files (.zip or .csv, 12 columns) into market_data.klines, printing progress.")

    @OptionGroup var writer: WriterOptions

    @Argument(help: "Kline files of the series, e.g. BTCUSDT-1m-2024-01.zip")
    var files: [String]

    func run() async throws {
        let series = try writer.series()
        guard !files.isEmpty else { throw ValidationError("give at least one kline file") }
        let importer = try KlineImport(series: series, paths: files)
        try await writer.withStore { store, _ in
            print("importing \(files.count) file(s) into \(series)")
            let done = try await importer.run(store: store) { progress in print(progress.line) }
            print("done: \(done.line)")
        }
    }
}

func seriesKey(_ symbol: String, _ interval: String, what: String) throws -> KlineSeriesKey {
    guard let parsedSymbol = try? Symbol(symbol) else { throw ValidationError("\(what): '\(symbol)' is not a Binance symbol") }
    guard let parsedInterval = Interval(rawValue: interval) else {
        throw ValidationError("\(what): '\(interval)' is not a Binance interval (1m, 5m, 1h, 1d, ...)")
    }
    return KlineSeriesKey(symbol: parsedSymbol, interval: parsedInterval)
}

func exchange(_ text: String) throws -> BinanceEndpoint {
    do { return try BinanceEndpoint(parsing: text) } catch { throw ValidationError("--binance: \(error.message)") }
}
