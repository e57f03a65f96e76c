import GordonDomain
import GordonExchange
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Bodies of the market and account endpoints trading tools call besides Gordon's own, with
/// Binance's field names and its decimals-as-strings (rest-api.md).
struct BookTickerResponse: Encodable {
    let symbol: String
    let bidPrice: String
    let bidQty: String
    let askPrice: String
    let askQty: String
}

struct AvgPriceResponse: Encodable {
    let mins: Int
    let price: String
    let closeTime: Int64
}

struct Ticker24hrResponse: Encodable {
    let symbol: String
    let priceChange: String
    let priceChangePercent: String
    let weightedAvgPrice: String
    let prevClosePrice: String
    let lastPrice: String
    let lastQty: String
    let bidPrice: String
    let bidQty: String
    let askPrice: String
    let askQty: String
    let openPrice: String
    let highPrice: String
    let lowPrice: String
    let volume: String
    let quoteVolume: String
    let openTime: Int64
    let closeTime: Int64
    let firstId: Int64
    let lastId: Int64
    let count: Int
}

struct CommissionResponse: Encodable {
    struct Rates: Encodable {
        let maker: String
        let taker: String
        let buyer: String
        let seller: String
    }
    struct Discount: Encodable {
        let enabledForAccount: Bool
        let enabledForSymbol: Bool
        let discountAsset: String
        let discount: String
    }
    let symbol: String
    let standardCommission: Rates
    let specialCommission: Rates
    let taxCommission: Rates
    let discount: Discount
}

struct OrderRateLimitEntry: Encodable {
    let rateLimitType: String
    let interval: String
    let intervalNum: Int
    let limit: Int
    let count: Int
}

extension BinanceSimulator {
    /// `GET /api/v3/ticker/24hr` for one symbol, from the published klines of the last 24
    /// hours and the synthetic book. Binance counts trades by id; the simulator has no public
    /// trade tape, so the ids are the kline trade counts' running total.
    func ticker24hr(_ symbol: Symbol, now: Int64) -> Ticker24hrResponse {
        let places = configuration.decimals
        let format = { (value: ExactDecimal) in BinanceDecimal.format(value, places: places) }
        let (klines, earlier, last, book) = state.withLock { state in
            (state.feed.klines(symbol: symbol, startTime: now - 86_400_000, endTime: nil, limit: 100_000) ?? [],
             state.feed.klines(symbol: symbol, startTime: nil, endTime: now - 86_400_000, limit: 1)?.last,
             state.core.lastPrice(symbol) ?? .zero, state.core.bookTicker(symbol))
        }
        let open = klines.first?.open.value ?? last
        let high = klines.map(\.high.value).max() ?? last
        let low = klines.map(\.low.value).min() ?? last
        let volume = klines.reduce(ExactDecimal.zero) { $0 + $1.volume.value }
        let quoteVolume = klines.reduce(ExactDecimal.zero) { $0 + $1.quoteVolume }
        let count = klines.reduce(0) { $0 + $1.trades }
        let change = last - open
        let percent = open.isPositive ? ((try? (change * ExactDecimal(100)).divided(by: open, scale: 3, rounding: .down)) ?? .zero) : .zero
        let weighted = volume.isPositive ? ((try? quoteVolume.divided(by: volume, scale: places, rounding: .down)) ?? .zero) : .zero
        return Ticker24hrResponse(
            symbol: symbol.rawValue, priceChange: format(change), priceChangePercent: BinanceDecimal.format(percent, places: 3),
            weightedAvgPrice: format(weighted), prevClosePrice: format(earlier?.close.value ?? open), lastPrice: format(last),
            lastQty: format(.zero), bidPrice: format(book?.bidPrice ?? .zero), bidQty: format(book?.bidQty ?? .zero),
            askPrice: format(book?.askPrice ?? .zero), askQty: format(book?.askQty ?? .zero), openPrice: format(open),
            highPrice: format(high), lowPrice: format(low), volume: format(volume), quoteVolume: format(quoteVolume),
            openTime: klines.first?.openTime.milliseconds ?? now, closeTime: now,
            firstId: count > 0 ? 0 : -1, lastId: count > 0 ? Int64(count - 1) : -1, count: count)
    }

    /// `GET /api/v3/avgPrice`: the mean close of the last 5 one-minute klines (Binance's
    /// 5-minute average), or the last price before any kline.
    func averagePrice(_ symbol: Symbol, now: Int64) -> AvgPriceResponse {
        let (closes, last) = state.withLock { state in
            ((state.feed.klines(symbol: symbol, startTime: nil, endTime: nil, limit: 100_000) ?? []).suffix(5).map(\.close.value),
             state.core.lastPrice(symbol) ?? .zero)
        }
        let sum = closes.reduce(ExactDecimal.zero, +)
        let mean = closes.isEmpty ? last : ((try? sum.divided(by: ExactDecimal(closes.count), scale: configuration.decimals, rounding: .down)) ?? last)
        return AvgPriceResponse(mins: 5, price: BinanceDecimal.format(mean, places: configuration.decimals), closeTime: now)
    }

    /// `GET /api/v3/account/commission`: the configured maker and taker rates, no tax, no
    /// BNB discount.
    func commission(_ symbol: Symbol) -> CommissionResponse {
        let places = configuration.decimals
        let maker = BinanceDecimal.format(configuration.fees.makerRate, places: places)
        let taker = BinanceDecimal.format(configuration.fees.takerRate, places: places)
        let zero = BinanceDecimal.format(.zero, places: places)
        return CommissionResponse(
            symbol: symbol.rawValue,
            standardCommission: .init(maker: maker, taker: taker, buyer: zero, seller: zero),
            specialCommission: .init(maker: zero, taker: zero, buyer: zero, seller: zero),
            taxCommission: .init(maker: zero, taker: zero, buyer: zero, seller: zero),
            discount: .init(enabledForAccount: false, enabledForSymbol: false, discountAsset: "BNB", discount: zero))
    }
}

/// An order list (OCO) in rest-api.md's shape; `orderReports` only on placement and cancel.
struct OrderListResponse: Encodable {
    struct Member: Encodable {
        let symbol: String
        let orderId: Int64
        let clientOrderId: String
    }
    let orderListId: Int64
    var contingencyType = "OCO"
    let listStatusType: String
    let listOrderStatus: String
    let listClientOrderId: String
    let transactionTime: Int64
    let symbol: String
    let orders: [Member]
    let orderReports: [OrderResponse]?
}

/// The user data stream's `listStatus` event (user-data-stream.md), Binance's one-letter keys.
struct ListStatusEvent: Encodable {
    struct Member: Encodable {
        let s: String
        let i: Int64
        let c: String
    }
    var e = "listStatus"
    let E: Int64
    let s: String
    let g: Int64
    var c = "OCO"
    let l: String
    let L: String
    var r = "NONE"
    let C: String
    let T: Int64
    let O: [Member]
}

/// One trade of the public tape: each published kline is one trade at its close, for its
/// volume, with the id its aggTrade stream event carried.
struct PublicTrade: Sendable {
    let id: Int64
    let price: ExactDecimal
    let quantity: ExactDecimal
    let time: Int64
}

/// `GET /api/v3/trades`.
struct TradeResponse: Encodable {
    let id: Int64
    let price: String
    let qty: String
    let quoteQty: String
    let time: Int64
    let isBuyerMaker: Bool
    let isBestMatch: Bool
}

/// `GET /api/v3/aggTrades`, Binance's one-letter keys.
struct AggTradeResponse: Encodable {
    let a: Int64
    let p: String
    let q: String
    let f: Int64
    let l: Int64
    let T: Int64
    let m: Bool
    let M: Bool
}

enum SimJSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }
}
