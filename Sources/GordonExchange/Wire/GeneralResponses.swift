public import GordonKernel
public import GordonDomain

/// `{}`: the body of GET /api/v3/ping, POST /api/v3/order/test (without
/// `computeCommissionRates`) and PUT/DELETE /api/v3/userDataStream. Decoding only checks
/// that the body is a JSON object; encoding writes `{}`.
public struct EmptyResponse: Codable, Sendable, Hashable {
    public init() {}

    public init(from decoder: any Decoder) throws {
        _ = try decoder.container(keyedBy: NoKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: NoKeys.self)
    }

    private struct NoKeys: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// GET /api/v3/time.
public struct ServerTimeResponse: Codable, Sendable, Hashable {
    public var serverTime: Int64

    public init(serverTime: Int64) { self.serverTime = serverTime }

    public var timestamp: Timestamp { Timestamp(milliseconds: serverTime) }
}

/// POST /api/v3/userDataStream. Binance retired the REST listen-key endpoints on
/// 2026-02-20 (CHANGELOG 2025-10-24, 2026-01-21) in favour of the WebSocket API's
/// `userDataStream.subscribe`; the shape is kept for the simulator and for testnets that
/// still serve it. The key is a bearer token for the account's stream: never log it.
public struct ListenKeyResponse: Codable, Sendable, Hashable {
    public var listenKey: String

    public init(listenKey: String) { self.listenKey = listenKey }
}

/// GET /api/v3/ticker/price for one symbol (an array of these without `symbol`).
public struct TickerPriceResponse: Codable, Sendable, Hashable {
    public var symbol: String
    public var price: String

    public init(symbol: String, price: String) {
        self.symbol = symbol
        self.price = price
    }

    public func priceValue() throws(GordonError) -> Price {
        try WireMapping.field("price") { () throws(GordonError) in try Price(parsing: price) }
    }

    public func symbolValue() throws(GordonError) -> Symbol {
        try WireMapping.field("symbol") { () throws(GordonError) in try Symbol(symbol) }
    }
}

/// One price level of an order book.
public struct DepthLevel: Sendable, Hashable {
    public var price: Price
    public var quantity: Quantity

    public init(price: Price, quantity: Quantity) {
        self.price = price
        self.quantity = quantity
    }
}

/// GET /api/v3/depth: levels are `["price", "qty"]` string pairs, bids best (highest) first.
public struct DepthResponse: Codable, Sendable, Hashable {
    public var lastUpdateId: Int64
    public var bids: [[String]]
    public var asks: [[String]]

    public init(lastUpdateId: Int64, bids: [[String]], asks: [[String]]) {
        self.lastUpdateId = lastUpdateId
        self.bids = bids
        self.asks = asks
    }

    /// The simulator's form: levels printed with `places` decimals, as Binance does.
    public init(lastUpdateId: Int64, bids: [DepthLevel], asks: [DepthLevel], places: Int) {
        func rows(_ levels: [DepthLevel]) -> [[String]] {
            levels.map { [BinanceDecimal.format($0.price.value, places: places), BinanceDecimal.format($0.quantity.value, places: places)] }
        }
        self.init(lastUpdateId: lastUpdateId, bids: rows(bids), asks: rows(asks))
    }

    public func bidLevels() throws(GordonError) -> [DepthLevel] { try DepthResponse.levels(bids, side: "bids") }
    public func askLevels() throws(GordonError) -> [DepthLevel] { try DepthResponse.levels(asks, side: "asks") }

    private static func levels(_ rows: [[String]], side: String) throws(GordonError) -> [DepthLevel] {
        var levels: [DepthLevel] = []
        levels.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let field = "\(side)[\(index)]"
            guard row.count >= 2 else { throw WireMapping.malformed("\(field) is not a [price, quantity] pair", context: ["field": field]) }
            let price = try WireMapping.field(field) { () throws(GordonError) in try Price(parsing: row[0]) }
            let quantity = try WireMapping.field(field) { () throws(GordonError) in try Quantity(parsing: row[1]) }
            levels.append(DepthLevel(price: price, quantity: quantity))
        }
        return levels
    }
}
