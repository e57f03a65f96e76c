import Foundation
import GordonDomain
import GordonExchange
import GordonKernel

/// The `Fixtures/stream-*.json` files: Binance's documented example payloads
/// (binance/binance-spot-api-docs at a5e0bc3, web-socket-streams.md and user-data-stream.md;
/// `listenKeyExpired` from user-data-stream.md at cb8238b, before listen keys were retired),
/// copied value for value with only the `// comments` removed so they are JSON.
///
/// One exception: the documented kline (`stream-kline.json`) is not a possible kline, its low
/// (0.0015) being above its open (0.0010), so Gordon rightly rejects it. `stream-kline-consistent.json`
/// is the same message with the low set to 0.0010; it is the kline the decoding tests read.
enum StreamFixture {
    static let directory: String = {
        let file = "\(#filePath)"
        return String(file[..<file.lastIndex(of: "/")!]) + "/Fixtures/"
    }()

    static func text(_ name: String) throws -> String {
        let url = URL(fileURLWithPath: directory + "stream-\(name).json")
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    static let marketNames = ["kline", "kline-consistent", "aggTrade", "bookTicker", "serverShutdown", "serverShutdown-combined"]
    static let userDataNames = ["executionReport", "outboundAccountPosition", "balanceUpdate", "listenKeyExpired",
                                "eventStreamTerminated", "listStatus", "externalLockUpdate"]
}

/// The error `body` threw, or nil.
func streamError<T>(_ body: () throws(GordonError) -> T) -> GordonError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Every key path in a JSON text: `"k.t"` for nested objects, `"B[].a"` for objects in arrays.
func streamKeyPaths(_ text: String) throws -> Set<String> {
    func collect(_ value: Any, _ prefix: String, into paths: inout Set<String>) {
        if let object = value as? [String: Any] {
            for (key, member) in object {
                let path = prefix.isEmpty ? key : prefix + "." + key
                paths.insert(path)
                collect(member, path, into: &paths)
            }
        } else if let array = value as? [Any] {
            for element in array { collect(element, prefix + "[]", into: &paths) }
        }
    }
    var paths = Set<String>()
    collect(try JSONSerialization.jsonObject(with: Data(text.utf8)), "", into: &paths)
    return paths
}

/// Random but valid stream values for round trips.
struct StreamValueGenerator {
    var random: SplitMix64

    init(seed: UInt64) { random = SplitMix64(seed: seed) }

    static let symbols = ["BTCUSDT", "ETHBTC", "BNBFDUSD", "1000SATSUSDT", "XRPEUR", "PEPEUSDC"]

    mutating func int(_ range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &random) }
    mutating func bool() -> Bool { Bool.random(using: &random) }
    mutating func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }

    mutating func decimal(maxScale: Int = 8, allowNegative: Bool = false) -> ExactDecimal {
        // Mostly Binance-like scales, sometimes more places than the encoder's `decimals`.
        let scale = bool() ? Int.random(in: 0...maxScale, using: &random) : pick([0, 2, 8, 12])
        let significand = Int128(int(0...999_999_999_999))
        let value = ExactDecimal(significand: significand, scale: scale)
        return allowNegative && bool() ? -value : value
    }

    mutating func symbol() -> Symbol { try! Symbol(pick(Self.symbols)) }
    mutating func timestamp() -> Timestamp { Timestamp(milliseconds: int(1_500_000_000_000...1_900_000_000_000)) }

    mutating func kline() -> KlineUpdate {
        let interval = pick(Interval.allCases)
        let open = interval.openTime(containing: int(1_500_000_000_000...1_900_000_000_000))
        var prices = (0..<4).map { _ in decimal() }.sorted()
        if bool() { prices[1] = prices[2] }
        let low = try! Price(prices[0]), high = try! Price(prices[3])
        let (first, last) = bool() ? (try! Price(prices[1]), try! Price(prices[2])) : (try! Price(prices[2]), try! Price(prices[1]))
        let volume = decimal()
        let quoteVolume = decimal()
        let kline = try! Kline(
            symbol: symbol(), interval: interval, openTime: Timestamp(milliseconds: open),
            closeTime: Timestamp(milliseconds: interval.closeTime(forOpenTime: open)),
            open: first, high: high, low: low, close: last, volume: try! Quantity(volume), quoteVolume: quoteVolume,
            trades: Int(int(0...1_000_000)),
            takerBuyBaseVolume: ExactDecimal(significand: volume.significand / 3, scale: volume.scale),
            takerBuyQuoteVolume: ExactDecimal(significand: quoteVolume.significand / 2, scale: quoteVolume.scale),
            isClosed: bool())
        let firstTrade = int(-1...1_000_000_000)
        return KlineUpdate(eventTime: timestamp(), kline: kline, firstTradeId: firstTrade, lastTradeId: firstTrade + int(0...1000))
    }

    mutating func aggTrade() -> AggregateTrade {
        let first = int(0...Int64.max / 2)
        return AggregateTrade(eventTime: timestamp(), symbol: symbol(), aggregateTradeId: int(0...Int64.max),
                              price: try! Price(decimal()), quantity: try! Quantity(decimal()), firstTradeId: first,
                              lastTradeId: first + int(0...100), tradeTime: timestamp(), buyerIsMaker: bool())
    }

    mutating func bookTicker() -> BookTicker {
        BookTicker(updateId: int(0...Int64.max), symbol: symbol(), bidPrice: try! Price(decimal()),
                   bidQuantity: try! Quantity(decimal()), askPrice: try! Price(decimal()), askQuantity: try! Quantity(decimal()))
    }

    /// `withConditionalFields` sets `v` and `W` (as the documented example has them) and never `eR`.
    mutating func executionReport(withConditionalFields: Bool? = nil) -> ExecutionReport {
        let orderType = pick(OrderType.allCases)
        let conditional = withConditionalFields ?? bool()
        let clientIds = ["mUvoqJxFIILMdfAW5iGSOW", "web_0f3c", "gordon:bot-1/intent.42", "quote\"back\\slash", "ünïcødé 🚀", "tab\there", ""]
        return ExecutionReport(
            eventTime: timestamp(), symbol: symbol(), clientOrderId: pick(clientIds), side: pick(Side.allCases),
            orderType: orderType, timeInForce: orderType.requiresTimeInForce ? pick(TimeInForce.allCases) : nil,
            quantity: decimal(), price: decimal(), stopPrice: decimal(), icebergQuantity: decimal(),
            orderListId: pick([-1, int(0...1_000_000)]), originalClientOrderId: pick(clientIds),
            executionType: pick(["NEW", "CANCELED", "REPLACED", "REJECTED", "TRADE", "EXPIRED", "TRADE_PREVENTION"]),
            orderStatus: pick(OrderStatus.allCases), rejectReason: pick(["NONE", "INSUFFICIENT_BALANCES"]),
            orderId: int(0...Int64.max), lastExecutedQuantity: decimal(), cumulativeFilledQuantity: decimal(),
            lastExecutedPrice: decimal(), commission: decimal(), commissionAsset: pick([nil, "BNB", "USDT"]),
            transactionTime: timestamp(), tradeId: pick([-1, int(0...Int64.max)]), executionId: int(0...Int64.max),
            isOnBook: bool(), isMaker: bool(), orderCreationTime: timestamp(), cumulativeQuoteQuantity: decimal(),
            lastQuoteQuantity: decimal(), quoteOrderQuantity: decimal(),
            workingTime: conditional ? timestamp() : nil, selfTradePreventionMode: pick(["NONE", "EXPIRE_MAKER", "EXPIRE_TAKER"]),
            preventedMatchId: conditional ? int(0...1000) : nil,
            expiryReason: withConditionalFields == nil && bool() ? "INSUFFICIENT_LIQUIDITY" : nil)
    }

    mutating func accountPosition(balanceCount: Int? = nil) -> AccountPosition {
        let count = balanceCount ?? Int(int(0...4))
        let balances = (0..<count).map { _ in
            AssetBalanceUpdate(asset: try! Asset(pick(["BTC", "ETH", "USDT", "BNB", "1000SATS"])), free: decimal(), locked: decimal())
        }
        return AccountPosition(eventTime: timestamp(), lastUpdateTime: timestamp(), balances: balances)
    }

    mutating func balanceUpdate() -> BalanceUpdate {
        BalanceUpdate(eventTime: timestamp(), asset: try! Asset(pick(["BTC", "ETH", "USDT"])),
                      delta: decimal(allowNegative: true), clearTime: timestamp())
    }
}
