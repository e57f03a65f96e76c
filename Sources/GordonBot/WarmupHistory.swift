public import GordonDomain
public import GordonKernel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// gordon-data's `/warmup` answer, read without the exchange client (a bot never links the
/// code that talks to Binance): Binance's kline rows, 12-element arrays
/// `[openTime, "open", "high", "low", "close", "volume", closeTime, "quoteVolume", trades,
/// "takerBuyBase", "takerBuyQuote", "ignore"]`, every decimal read exactly.
public enum WarmupHistory {
    public static func klines(from body: [UInt8], symbol: Symbol, interval: Interval) throws(GordonError) -> [Kline] {
        let rows: [Row]
        do {
            rows = try JSONDecoder().decode([Row].self, from: Data(body))
        } catch {
            throw GordonError(.invalidMarketData, "gordon-data's warm-up reply is not a list of Binance kline rows: \(error)")
        }
        var klines: [Kline] = []
        klines.reserveCapacity(rows.count)
        for row in rows {
            klines.append(try Kline(
                symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: row.openTime),
                closeTime: Timestamp(milliseconds: row.closeTime), open: Price(parsing: row.open), high: Price(parsing: row.high),
                low: Price(parsing: row.low), close: Price(parsing: row.close), volume: Quantity(parsing: row.volume),
                quoteVolume: ExactDecimal(parsing: row.quoteVolume), trades: row.trades,
                takerBuyBaseVolume: ExactDecimal(parsing: row.takerBuyBase), takerBuyQuoteVolume: ExactDecimal(parsing: row.takerBuyQuote),
                isClosed: true))
        }
        return klines
    }

    struct Row: Decodable {
        let openTime: Int64, open: String, high: String, low: String, close: String, volume: String
        let closeTime: Int64, quoteVolume: String, trades: Int, takerBuyBase: String, takerBuyQuote: String

        init(from decoder: any Decoder) throws {
            var row = try decoder.unkeyedContainer()
            openTime = try row.decode(Int64.self)
            open = try row.decode(String.self)
            high = try row.decode(String.self)
            low = try row.decode(String.self)
            close = try row.decode(String.self)
            volume = try row.decode(String.self)
            closeTime = try row.decode(Int64.self)
            quoteVolume = try row.decode(String.self)
            trades = try row.decode(Int.self)
            takerBuyBase = try row.decode(String.self)
            takerBuyQuote = try row.decode(String.self)
        }
    }
}
