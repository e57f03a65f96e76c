public import GordonDomain
public import GordonKernel
public import GordonProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One value a source reported. Every value is a point of its series in `market_data.metrics`
/// (what `/metrics/series`, gordon-risk and the `MetricEvent` carry); `record` says which
/// typed table also keeps it with the provider's own keys.
public struct MetricObservation: Sendable, Hashable {
    public let name: MetricName
    public let observedAt: Timestamp
    public let value: ExactDecimal
    public let source: String
    public let unit: String?
    public let record: Record

    public enum Record: Sendable, Hashable {
        /// Only the series (`market_data.metrics`).
        case series
        /// `market_data.macro_series`, keyed by the provider's series id and observation date.
        case macro(seriesId: String, date: String)
        /// `market_data.funding_rates`.
        case funding(venue: String, instrument: String)
        /// `market_data.open_interest`: the value in the venue's own unit, and in USD when known.
        case openInterest(venue: String, instrument: String, usd: ExactDecimal?)
    }

    public init(name: MetricName, observedAt: Timestamp, value: ExactDecimal, source: String, unit: String? = nil, record: Record = .series) {
        self.name = name
        self.observedAt = observedAt
        self.value = value
        self.source = source
        self.unit = unit
        self.record = record
    }
}

/// What to ask a provider: the path and query below its base URL, and the same with any
/// secret in it masked, which is all that logs and errors ever show.
public struct SourceRequest: Sendable, Equatable, CustomStringConvertible {
    public let path: String
    public let loggedPath: String

    /// The masked path: a request interpolated into a message shows no secret.
    public var description: String { loggedPath }

    public init(path: String, secrets: [String] = []) {
        self.path = path
        self.loggedPath = secrets.filter { !$0.isEmpty }.reduce(path) { $0.replacing($1, with: "[redacted]") }
    }
}

/// An alternative-data provider gordon-data polls: where to ask, how often, and how to read
/// the answer. Decoding is a plain function of the bytes, tested without a socket; a body
/// it cannot read entirely is an error, so nothing partial is ever stored.
public protocol MetricSource: Sendable {
    /// This poller among the others, for logs and metric labels (`deribit_dvol_btc`).
    var id: String { get }
    /// The provider, for the `source` column and events (`deribit`).
    var name: String { get }
    /// The one series this source fills, and its unit.
    var metric: MetricName { get }
    var unit: String? { get }
    var pollInterval: Duration { get }
    /// The request for a poll at `now` (windows of time are relative to it).
    func request(now: Timestamp) -> SourceRequest
    func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation]
    /// The provider's own explanation in an error answer (HTTP 4xx/5xx), if it gives one.
    func errorMessage(_ body: [UInt8]) -> String?
}

extension MetricSource {
    public func errorMessage(_ body: [UInt8]) -> String? { nil }

    func unreadable(_ what: String, _ body: [UInt8]) -> GordonError {
        GordonError(.invalidMarketData, "\(name) answered with JSON that is not the \(what) shape",
                    context: ["source": id, "body": String(decoding: body.prefix(120), as: UTF8.self)])
    }

    func outOfRange(_ what: String, _ context: [String: String]) -> GordonError {
        GordonError(.invalidMarketData, "\(name) sent \(what)", context: context.merging(["source": id]) { $1 })
    }
}

/// JSON numbers read exactly: through `Decimal`, whose decoding keeps the digits as written
/// (a `Double` would not), then into an `ExactDecimal`. Exponents (`-4.7e-7`) are accepted
/// here because providers other than Binance print floats.
struct JSONExactNumber: Decodable, Hashable {
    let value: ExactDecimal

    init(from decoder: any Decoder) throws {
        let decimal = try decoder.singleValueContainer().decode(Decimal.self)
        guard decimal.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a finite number"))
        }
        value = try ExactDecimal(parsing: decimal.description)
    }
}

/// alternative.me's Crypto Fear & Greed Index (daily, 0–100): `GET /fng/?limit=N`, answered
/// as `{"name":…,"data":[{"value":"40","value_classification":"Fear","timestamp":"1551157200",…}],
/// "metadata":{"error":null}}` with values and Unix-second timestamps as strings.
public struct FearAndGreedSource: MetricSource {
    public static let metric = try! MetricName("fear_greed")
    public let id = "fear_greed"
    public let name = "alternative.me"
    public var metric: MetricName { Self.metric }
    public let unit: String? = "index"
    public let pollInterval: Duration
    /// Days asked for each time: a few, so a missed poll leaves no gap.
    public let days: Int

    public init(pollInterval: Duration = .seconds(3600), days: Int = 7) {
        self.pollInterval = pollInterval
        self.days = days
    }

    public func request(now: Timestamp) -> SourceRequest { SourceRequest(path: "/fng/?limit=\(days)&format=json") }

    struct Body: Decodable {
        struct Entry: Decodable {
            let value: String
            let timestamp: String
        }
        struct Metadata: Decodable { let error: String? }
        let data: [Entry]
        let metadata: Metadata?
    }

    public func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation] {
        guard let parsed = try? JSONDecoder().decode(Body.self, from: Data(body)) else { throw unreadable("Fear & Greed", body) }
        if let error = parsed.metadata?.error {
            throw GordonError(.invalidMarketData, "alternative.me reported an error", context: ["source": id, "error": String(error.prefix(120))])
        }
        return try parsed.data.map { entry throws(GordonError) in
            guard let value = Int(entry.value), (0...100).contains(value), let seconds = Int64(entry.timestamp), seconds > 0, seconds < 100_000_000_000 else {
                throw outOfRange("a Fear & Greed entry out of range",
                                 ["value": String(entry.value.prefix(32)), "timestamp": String(entry.timestamp.prefix(32))])
            }
            return MetricObservation(name: Self.metric, observedAt: Timestamp(milliseconds: seconds * 1000), value: ExactDecimal(value),
                                     source: name, unit: unit)
        }
    }
}
