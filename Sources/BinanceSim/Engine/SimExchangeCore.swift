public import GordonDomain

/// The simulated Binance spot exchange for one account: symbols, a synthetic book around
/// each symbol's last price, the account's orders, trades and balances.
///
/// A plain value with no I/O and no clock: callers pass `now` (milliseconds since the epoch)
/// and get back the events the user-data stream must send. The HTTP server wraps one in a
/// mutex; every mutating call either changes the state completely or throws and changes
/// nothing.
public struct SimExchangeCore: Sendable {
    var markets: [Symbol: SymbolMarket]
    /// Symbols in the order given, for `exchangeInfo`.
    private let symbolOrder: [Symbol]
    var ledger: SimLedger
    let fees: FeeModel
    /// Counter behind generated client order ids.
    var generatedClientIds: UInt64 = 0
    /// Every OCO placed, by orderListId.
    var orderLists: [Int64: SimOrderList] = [:]
    var nextOrderListId: Int64 = 1
    /// List client order id → the newest list that used it.
    var orderListIdByClientId: [String: Int64] = [:]

    /// `balances` are the account's starting free amounts; every asset of every symbol is
    /// listed in `balances()`, at zero when not given. A symbol given twice keeps the last spec.
    /// Order and trade ids of every symbol start at `firstId`.
    public init(symbols: [SimSymbolSpec], fees: FeeModel, balances: [Asset: ExactDecimal], firstId: Int64 = 1) {
        var markets: [Symbol: SymbolMarket] = [:]
        var order: [Symbol] = []
        for spec in symbols {
            if markets[spec.symbol] == nil { order.append(spec.symbol) }
            var market = SymbolMarket(spec: spec)
            market.nextOrderId = max(firstId, 1)
            market.nextTradeId = max(firstId, 1)
            markets[spec.symbol] = market
        }
        self.markets = markets
        self.symbolOrder = order
        self.fees = fees
        self.ledger = SimLedger(starting: balances, listing: symbols.flatMap { [$0.base, $0.quote] })
    }

    /// The market of `symbol`, taken out of `markets` for a change; the caller puts it back
    /// (`defer { markets[symbol] = market }`). Out of the dictionary its order tables are
    /// referenced once, so changing them copies nothing: changing a copy that still shared
    /// them with the dictionary made every order cost as much as all orders placed before it.
    mutating func takeMarket(_ symbol: Symbol) -> SymbolMarket? {
        markets.removeValue(forKey: symbol)
    }

    public var symbols: [SimSymbolSpec] { symbolOrder.map { markets[$0]!.spec } }

    public func spec(_ symbol: Symbol) -> SimSymbolSpec? { markets[symbol]?.spec }

    public func lastPrice(_ symbol: Symbol) -> ExactDecimal? { markets[symbol]?.lastPrice }

    // MARK: Account queries

    /// `GET /api/v3/order`: unknown → -2013 "Order does not exist.".
    public func order(symbol: Symbol, orderId: Int64?, origClientOrderId: String?) throws(SimRejection) -> SimOrder {
        guard let market = markets[symbol] else { throw SimRejection.invalidSymbol }
        guard let order = try market.find(orderId: orderId, clientOrderId: origClientOrderId) else {
            throw SimRejection.orderDoesNotExist
        }
        return order
    }

    /// `GET /api/v3/openOrders`: one symbol's (or, nil, every symbol's) open orders, by
    /// orderId (then symbol, since ids count per symbol). An unknown symbol has none.
    public func openOrders(symbol: Symbol?) -> [SimOrder] {
        let chosen = symbol.map { [$0] } ?? symbolOrder
        return chosen.flatMap { symbol -> [SimOrder] in
            guard let market = markets[symbol] else { return [] }
            return market.openOrderIds.map { market.orders[$0]! }
        }
        .sorted { ($0.orderId, $0.symbol.rawValue) < ($1.orderId, $1.symbol.rawValue) }
    }

    /// `GET /api/v3/myTrades`, ascending tradeId: with `fromId`, the first `limit` trades
    /// from that id on; without, the most recent `limit` (rest-api.md: "If fromId is set, it
    /// will get trades >= that fromId. Otherwise most recent trades are returned.").
    public func trades(symbol: Symbol, orderId: Int64?, fromId: Int64?, limit: Int) -> [SimFill] {
        guard let market = markets[symbol] else { return [] }
        let limit = max(0, limit)
        var trades = market.trades
        if let orderId { trades = trades.filter { $0.orderId == orderId } }
        if let fromId { return Array(trades.lazy.filter { $0.tradeId >= fromId }.prefix(limit)) }
        return Array(trades.suffix(limit))
    }

    /// `GET /api/v3/allOrders`: the symbol's orders of any status, ascending orderId, from
    /// `orderId` on when given (otherwise the most recent `limit`), within the time bounds.
    public func allOrders(symbol: Symbol, orderId: Int64?, startTime: Int64?, endTime: Int64?, limit: Int) -> [SimOrder] {
        guard let market = markets[symbol] else { return [] }
        let matching = market.orders.values
            .filter { order in
                (orderId.map { order.orderId >= $0 } ?? true) && (startTime.map { order.time >= $0 } ?? true)
                    && (endTime.map { order.time <= $0 } ?? true)
            }
            .sorted { $0.orderId < $1.orderId }
        return orderId == nil ? Array(matching.suffix(max(0, limit))) : Array(matching.prefix(max(0, limit)))
    }

    /// `GET /api/v3/account` balances, sorted by asset.
    public func balances() -> [SimBalance] { ledger.all }
}
