import GordonDomain
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The alternative data sources gordon-data polls besides Binance, served by the simulator in
/// their providers' own JSON so tests and the local stack run offline.
///
/// alternative.me's Fear & Greed index, `GET /fng/?limit=N` (alternative.me/crypto/fear-and-greed-index/,
/// "API"): the newest day first, values and timestamps (Unix seconds) as strings. The
/// simulated index follows the first symbol's market: 50 plus the percent change of its last
/// 24 published closes, times five, clamped to 0…100, one value per day of the feed.
struct FearAndGreedResponse: Encodable {
    struct Entry: Encodable {
        let value: String
        let value_classification: String
        let timestamp: String
        let time_until_update: String?
    }
    struct Metadata: Encodable {
        let error: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(error, forKey: .error)  // `null`, as the provider prints it
        }

        enum CodingKeys: String, CodingKey { case error }
    }
    var name = "Fear and Greed Index"
    let data: [Entry]
    let metadata: Metadata
}

extension BinanceSimulator {
    func fearAndGreed(_ p: SimParameters, now: Int64) -> SimHTTPResponse {
        if state.withLock({ $0.faults.malformedSourceReply() }) {
            return SimHTTPResponse(status: 200, headers: [], body: Array(#"{"name":"Fear and Greed Index","data":[{"value":"#.utf8))
        }
        let limit = max(1, min(Int(p["limit"] ?? "1") ?? 1, 365))
        let symbol = configuration.symbols.first?.symbol
        let klines = symbol.flatMap { symbol in state.withLock { $0.feed.klines(symbol: symbol, startTime: nil, endTime: nil, limit: 100_000) } } ?? []
        let day: Int64 = 86_400_000
        var entries: [FearAndGreedResponse.Entry] = []
        var end = klines.count
        while end > 0 && entries.count < limit {
            let dayStart = klines[end - 1].openTime.milliseconds / day * day
            let window = klines[max(0, end - 24)..<end].map(\.close.value.doubleApproximation)
            let change = window.count > 1 && window[0] > 0 ? (window[window.count - 1] / window[0] - 1) * 100 : 0
            let value = Int(max(0, min(100, (50 + change * 5).rounded())))
            entries.append(.init(value: String(value), value_classification: Self.classification(value), timestamp: String(dayStart / 1000),
                                 time_until_update: entries.isEmpty ? String((dayStart + day - now) / 1000 % 86_400) : nil))
            end = klines.firstIndex { $0.openTime.milliseconds >= dayStart } ?? 0
        }
        return ok(FearAndGreedResponse(data: entries, metadata: .init(error: nil)))
    }

    static func classification(_ value: Int) -> String {
        switch value {
        case ..<25: "Extreme Fear"
        case ..<47: "Fear"
        case ..<55: "Neutral"
        case ..<76: "Greed"
        default: "Extreme Greed"
        }
    }
}
