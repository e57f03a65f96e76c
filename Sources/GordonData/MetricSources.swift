public import GordonDomain
public import GordonKernel
public import GordonProtocol
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One value a source reported, as `market_data.metrics` keeps it.
public struct MetricObservation: Sendable, Hashable {
    public let name: MetricName
    public let observedAt: Timestamp
    public let value: ExactDecimal
    public let source: String
    public let unit: String?

    public init(name: MetricName, observedAt: Timestamp, value: ExactDecimal, source: String, unit: String? = nil) {
        self.name = name
        self.observedAt = observedAt
        self.value = value
        self.source = source
        self.unit = unit
    }
}

/// An alternative-data provider gordon-data polls: where to ask, how often, and how to read
/// the answer. Decoding is a plain function of the bytes, tested without a socket; a body
/// it cannot read entirely is an error, so nothing partial is ever stored.
public protocol MetricSource: Sendable {
    /// The provider, for logs, metrics and the `source` column (`alternative.me`).
    var name: String { get }
    var pollInterval: Duration { get }
    /// The request path and query below the provider's base URL.
    var path: String { get }
    func decode(_ body: [UInt8]) throws(GordonError) -> [MetricObservation]
}

/// alternative.me's Crypto Fear & Greed Index (daily, 0–100): `GET /fng/?limit=N`, answered
/// as `{"name":…,"data":[{"value":"40","value_classification":"Fear","timestamp":"1551157200",…}],
/// "metadata":{"error":null}}` with values and Unix-second timestamps as strings.
public struct FearAndGreedSource: MetricSource {
    public static let metric = try! MetricName("fear_greed")
    public let name = "alternative.me"
    public let pollInterval: Duration
    /// Days asked for each time: a few, so a missed poll leaves no gap.
    public let days: Int

    public init(pollInterval: Duration = .seconds(3600), days: Int = 7) {
        self.pollInterval = pollInterval
        self.days = days
    }

    public var path: String { "/fng/?limit=\(days)&format=json" }

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
        let parsed: Body
        do {
            parsed = try JSONDecoder().decode(Body.self, from: Data(body))
        } catch {
            throw GordonError(.invalidMarketData, "alternative.me answered with JSON that is not the Fear & Greed shape",
                              context: ["source": name, "body": String(decoding: body.prefix(120), as: UTF8.self)])
        }
        if let error = parsed.metadata?.error {
            throw GordonError(.invalidMarketData, "alternative.me reported an error", context: ["source": name, "error": String(error.prefix(120))])
        }
        return try parsed.data.map { entry throws(GordonError) in
            guard let value = Int(entry.value), (0...100).contains(value), let seconds = Int64(entry.timestamp), seconds > 0 else {
                throw GordonError(.invalidMarketData, "alternative.me sent a Fear & Greed entry out of range",
                                  context: ["source": name, "value": String(entry.value.prefix(32)), "timestamp": String(entry.timestamp.prefix(32))])
            }
            return MetricObservation(name: Self.metric, observedAt: Timestamp(milliseconds: seconds * 1000), value: ExactDecimal(value),
                                     source: name, unit: "index")
        }
    }
}
