public import GordonDomain
public import GordonKernel
public import GordonProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Deribit's public API v2 over HTTP GET (docs.deribit.com): JSON-RPC envelopes,
/// `{"jsonrpc":"2.0","result":…,"usIn":…,"usOut":…,"usDiff":…,"testnet":false}`, or
/// `{"jsonrpc":"2.0","error":{"code":10001,"message":"…"},…}` with HTTP 400. Numbers are JSON
/// floats and times Unix milliseconds. Public methods need no key.
enum Deribit {
    static let venue = "deribit"

    struct Envelope<Result: Decodable>: Decodable {
        struct Failure: Decodable {
            let code: Int
            let message: String
        }
        let result: Result?
        let error: Failure?
    }

    /// The result of a reply, or the provider's error; anything else is unreadable.
    static func result<Result: Decodable>(_ type: Result.Type, _ body: [UInt8], source: some MetricSource,
                                          what: String) throws(GordonError) -> Result {
        guard let envelope = try? JSONDecoder().decode(Envelope<Result>.self, from: Data(body)) else { throw source.unreadable(what, body) }
        if let error = envelope.error {
            throw GordonError(.invalidMarketData, "deribit reported an error",
                              context: ["source": source.id, "code": "\(error.code)", "error": String(error.message.prefix(120))])
        }
        guard let result = envelope.result else { throw source.unreadable(what, body) }
        return result
    }

    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let envelope = try? JSONDecoder().decode(Envelope<JSONExactNumber>.self, from: Data(body)), let error = envelope.error else { return nil }
        return "\(error.code) \(error.message.prefix(120))"
    }

    static func currencyToken(_ currency: String) -> String { currency.lowercased() }
}

/// The DVOL index (Deribit's 30-day implied volatility, in volatility points) of one currency:
/// `public/get_volatility_index_data?currency=BTC&start_timestamp&end_timestamp&resolution`,
/// whose `result.data` rows are `[timestamp, open, high, low, close]`. Each row's close is a
/// point of `dvol_<currency>` at its timestamp; the window asked for overlaps the last poll's,
/// so a missed poll leaves no gap.
public struct DeribitVolatilitySource: MetricSource {
    public let currency: String
    public let name = Deribit.venue
    public let pollInterval: Duration
    /// Seconds per row: 1, 60, 3600, 43200 or 86400 (Deribit's resolutions).
    public let resolutionSeconds: Int
    public let window: Duration
    public let metric: MetricName

    public init(currency: String, pollInterval: Duration = .seconds(300), resolutionSeconds: Int = 60,
                window: Duration = .seconds(2 * 3600)) throws(GordonError) {
        guard [1, 60, 3600, 43_200, 86_400].contains(resolutionSeconds) else {
            throw GordonError(.serviceConfigInvalid, "Deribit's DVOL resolutions are 1, 60, 3600, 43200 and 86400 seconds",
                              context: ["resolution": "\(resolutionSeconds)"])
        }
        self.currency = currency.uppercased()
        self.pollInterval = pollInterval
        self.resolutionSeconds = resolutionSeconds
        self.window = window
        self.metric = try MetricName("dvol_\(Deribit.currencyToken(currency))")
    }

    public var id: String { "deribit_\(metric.rawValue)" }
    public var unit: String? { "volatility" }

    /// Up to the last finished row: the row under way has a provisional close, and a stored
    /// point is final.
    public func request(now: Timestamp) -> SourceRequest {
        let step = Int64(resolutionSeconds) * 1000
        let end = now.milliseconds / step * step - 1
        let start = end - window.nanoseconds / 1_000_000
        let resolution = resolutionSeconds == 86_400 ? "1D" : "\(resolutionSeconds)"
        return SourceRequest(path: "/api/v2/public/get_volatility_index_data?currency=\(currency)&start_timestamp=\(start)"
                                 + "&end_timestamp=\(end)&resolution=\(resolution)")
    }

    struct Result: Decodable {
        let data: [[JSONExactNumber]]
    }

    public func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation] {
        let result = try Deribit.result(Result.self, body, source: self, what: "volatility index")
        return try result.data.map { row throws(GordonError) in
            guard row.count == 5, let time = Int64(row[0].value.description), time > 0, row[4].value.isPositive else {
                throw outOfRange("a DVOL row that is not [timestamp, open, high, low, close] with a positive close",
                                 ["row": row.map(\.value.description).joined(separator: ",")])
            }
            return MetricObservation(name: metric, observedAt: Timestamp(milliseconds: time), value: row[4].value, source: name, unit: unit)
        }
    }

    public func errorMessage(_ body: [UInt8]) -> String? { Deribit.errorMessage(body) }
}

/// The funding rate of one Deribit perpetual: `public/get_funding_rate_history?instrument_name&
/// start_timestamp&end_timestamp`, hourly rows `{"timestamp", "index_price", "prev_index_price",
/// "interest_8h", "interest_1h"}`. The 8-hour rate is kept (the figure exchanges quote, and
/// Binance's futures funding period), in `market_data.funding_rates` and as
/// `funding_<instrument>` (`funding_btc_perpetual`).
public struct DeribitFundingSource: MetricSource {
    public let instrument: String
    public let name = Deribit.venue
    public let pollInterval: Duration
    public let window: Duration
    public let metric: MetricName

    public init(instrument: String, pollInterval: Duration = .seconds(600), window: Duration = .seconds(12 * 3600)) throws(GordonError) {
        self.instrument = instrument.uppercased()
        self.pollInterval = pollInterval
        self.window = window
        self.metric = try MetricName("funding_" + Self.token(instrument))
    }

    static func token(_ instrument: String) -> String {
        String(instrument.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public var id: String { "deribit_\(metric.rawValue)" }
    public var unit: String? { "rate_8h" }

    public func request(now: Timestamp) -> SourceRequest {
        SourceRequest(path: "/api/v2/public/get_funding_rate_history?instrument_name=\(instrument)"
                          + "&start_timestamp=\(now.milliseconds - window.nanoseconds / 1_000_000)&end_timestamp=\(now.milliseconds)")
    }

    struct Row: Decodable {
        let timestamp: Int64
        let interest_8h: JSONExactNumber
    }

    public func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation] {
        try Deribit.result([Row].self, body, source: self, what: "funding rate history").map { row throws(GordonError) in
            guard row.timestamp > 0 else { throw outOfRange("a funding row without a time", ["timestamp": "\(row.timestamp)"]) }
            return MetricObservation(name: metric, observedAt: Timestamp(milliseconds: row.timestamp), value: row.interest_8h.value,
                                     source: name, unit: unit, record: .funding(venue: name, instrument: instrument))
        }
    }

    public func errorMessage(_ body: [UInt8]) -> String? { Deribit.errorMessage(body) }
}

/// Open interest of one Deribit perpetual, sampled: `public/get_book_summary_by_instrument?
/// instrument_name`, one summary whose `open_interest` is, for perpetuals and inverse futures,
/// in USD (Deribit: "for perpetual and inverse futures the amount is in USD units"), taken at
/// its `creation_timestamp`. Kept in `market_data.open_interest` and as
/// `open_interest_<instrument>`.
public struct DeribitOpenInterestSource: MetricSource {
    public let instrument: String
    public let name = Deribit.venue
    public let pollInterval: Duration
    public let metric: MetricName

    public init(instrument: String, pollInterval: Duration = .seconds(300)) throws(GordonError) {
        self.instrument = instrument.uppercased()
        self.pollInterval = pollInterval
        self.metric = try MetricName("open_interest_" + DeribitFundingSource.token(instrument))
    }

    public var id: String { "deribit_\(metric.rawValue)" }
    /// Perpetuals and inverse futures count open interest in USD; anything else in contracts.
    public var unit: String? { isUSD ? "usd" : "contracts" }
    var isUSD: Bool { instrument.hasSuffix("-PERPETUAL") && !instrument.contains("_") }

    public func request(now: Timestamp) -> SourceRequest {
        SourceRequest(path: "/api/v2/public/get_book_summary_by_instrument?instrument_name=\(instrument)")
    }

    struct Summary: Decodable {
        let instrument_name: String
        let open_interest: JSONExactNumber
        let creation_timestamp: Int64
    }

    public func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation] {
        let summaries = try Deribit.result([Summary].self, body, source: self, what: "book summary")
        guard summaries.count == 1, let summary = summaries.first, summary.instrument_name == instrument else {
            throw outOfRange("a book summary of another instrument", ["instruments": summaries.map(\.instrument_name).joined(separator: ",")])
        }
        guard summary.creation_timestamp > 0, !summary.open_interest.value.isNegative else {
            throw outOfRange("an open interest out of range", ["open_interest": summary.open_interest.value.description])
        }
        let usd: ExactDecimal? = isUSD ? summary.open_interest.value : nil
        return [MetricObservation(name: metric, observedAt: Timestamp(milliseconds: summary.creation_timestamp), value: summary.open_interest.value,
                                  source: name, unit: unit,
                                  record: .openInterest(venue: name, instrument: instrument, usd: usd))]
    }

    public func errorMessage(_ body: [UInt8]) -> String? { Deribit.errorMessage(body) }
}
