public import GordonDomain
public import GordonKernel
import Synchronization

/// The live `ExecutionModel`: orders go to Binance (or BinanceSim) through
/// `BinanceRESTClient`, idempotent by client order id.
///
/// Before an order leaves, it is rounded to its symbol's filters from exchangeInfo and
/// checked the way Binance checks it, so a rounding slip never costs a rejected order (and a
/// request weight). Binance does not know which bot owns an order; `botOf` says, from the
/// client order id (the executor keeps that mapping in its database).
public final class BinanceExecution: ExecutionModel {
    public let rest: BinanceRESTClient
    private let botOf: @Sendable (ClientOrderId) -> BotId
    private let rules = Mutex<[Symbol: SymbolRules]>([:])

    /// A symbol's trading rules as exchangeInfo gives them.
    public struct SymbolRules: Sendable {
        public var filters: ExchangeFilters
        public var percentPrice: PercentPriceBySide?
        /// What the symbol trades: a position in it is held in this asset.
        public var baseAsset: Asset?
    }

    public init(rest: BinanceRESTClient, botOf: @escaping @Sendable (ClientOrderId) -> BotId) {
        self.rest = rest
        self.botOf = botOf
    }

    /// Loads (or refreshes) the filters of `symbols` from exchangeInfo.
    @discardableResult
    public func loadRules(for symbols: [Symbol]) async throws(GordonError) -> [Symbol: SymbolRules] {
        let info = try await rest.exchangeInfo(symbols: symbols)
        var loaded: [Symbol: SymbolRules] = [:]
        for symbolInfo in info.symbols {
            loaded[try symbolInfo.symbolValue()] = SymbolRules(filters: try symbolInfo.exchangeFilters(), percentPrice: symbolInfo.percentPriceBySide,
                                                                    baseAsset: try? Asset(symbolInfo.baseAsset))
        }
        rules.withLock { $0.merge(loaded) { _, new in new } }
        return loaded
    }

    public func rules(for symbol: Symbol) -> SymbolRules? { rules.withLock { $0[symbol] } }

    public func submit(_ request: OrderRequest) async throws(GordonError) -> Order {
        var order = try NewOrder(request)
        if let symbolRules = rules(for: request.symbol) {
            order = try order.conforming(to: symbolRules.filters)
        }
        let response = try await rest.placeOrder(order)
        let placed = try response.order(botId: request.botId, createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        // An order found under this id must be the one asked for; anything else is a
        // client-order-id collision, never something to trade on.
        guard placed.symbol == order.symbol, placed.side == order.side, placed.type == order.type,
              order.quantity.map({ $0 == placed.quantity }) ?? true
        else {
            throw GordonError(.duplicateOrder, "an order with this client order id exists with different terms",
                              context: ["clientOrderId": request.clientOrderId.rawValue, "symbol": request.symbol.rawValue])
        }
        return placed
    }

    public func cancel(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order {
        do {
            let response = try await rest.cancelOrder(symbol: symbol, clientOrderId: clientOrderId)
            return try response.order(botId: botOf(clientOrderId), createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        } catch where error.code == .unknownOrder {
            // -2011 also answers a cancel of an order that already finished: return it as it is.
            guard let existing = try await order(symbol: symbol, clientOrderId: clientOrderId) else { throw error }
            guard !existing.isOpen else { throw error }
            return existing
        }
    }

    public func order(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order? {
        do {
            let response = try await rest.queryOrder(symbol: symbol, clientOrderId: clientOrderId)
            return try response.order(botId: botOf(clientOrderId), createdAt: Timestamp(milliseconds: rest.serverNowMilliseconds))
        } catch where error.code == .unknownOrder {
            return nil
        }
    }

    public func openOrders(symbol: Symbol?) async throws(GordonError) -> [Order] {
        let now = Timestamp(milliseconds: rest.serverNowMilliseconds)
        var orders: [Order] = []
        for response in try await rest.openOrders(symbol: symbol) {
            let id = try ClientOrderId(response.clientOrderId)
            orders.append(try response.order(botId: botOf(id), createdAt: now))
        }
        return orders
    }

    public func balances() async throws(GordonError) -> [Balance] {
        try await rest.account().domainBalances()
    }
}
