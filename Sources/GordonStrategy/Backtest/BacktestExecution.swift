public import GordonDomain
public import GordonKernel
import Synchronization

/// When a signal given at a bar's close is executed.
public enum FillTiming: String, Sendable, Hashable, Codable, CaseIterable {
    /// At the next bar's open: the bot sees the close, its order reaches the market after.
    case nextOpen = "next_open"
    /// At the same bar's close: optimistic, for comparison only.
    case sameClose = "same_close"
}

/// How the backtest exchange behaves.
public struct BacktestSettings: Sendable, Hashable {
    public var initialCash: ExactDecimal
    public var fees: FeeModel
    /// Adverse price move on every market fill, as a fraction (`0.0005` = 5 bps): buys pay
    /// more, sells receive less, each rounded against Gordon onto the tick grid.
    public var slippage: ExactDecimal
    public var filters: ExchangeFilters
    public var fillTiming: FillTiming
    /// Closes a position still open after the last bar at that bar's close, so every
    /// trade has an exit (marked `end of data`).
    public var closeAtEnd: Bool

    public init(initialCash: ExactDecimal = 10_000, fees: FeeModel = .binanceDefault, slippage: ExactDecimal = .zero,
                filters: ExchangeFilters = .none, fillTiming: FillTiming = .nextOpen, closeAtEnd: Bool = true) {
        self.initialCash = initialCash
        self.fees = fees
        self.slippage = slippage
        self.filters = filters
        self.fillTiming = fillTiming
        self.closeAtEnd = closeAtEnd
    }
}

/// The backtest's exchange: an `ExecutionModel` over historical bars, with Binance's order
/// semantics (idempotent client order ids, filters, balances, commissions).
///
/// The backtester moves its clock: `open(bar:)` sets the reference price to the bar's open
/// and fills resting limit orders the bar's range reaches; `close(bar:)` moves the
/// reference to the close. Market orders fill at once at the reference price plus
/// slippage. Commission is charged in the quote asset, as if paid from a quote balance (a
/// live account without BNB pays it in the asset received; the value is the same).
///
/// Cash and position never go negative: a market buy whose cost (with commission) exceeds
/// the free quote fills only what the cash covers and ends EXPIRED, and orders the balance
/// cannot cover at placement are refused with `insufficientBalance`.
public final class BacktestExecution: ExecutionModel, Sendable {
    public let symbol: Symbol
    public let settings: BacktestSettings
    /// Fractional digits of the bars' prices (`BarSeries.priceDecimals`).
    public let priceDecimals: Int
    private let lock = Mutex(())
    private let book: BookBox

    /// `expectedOrders` sizes the order table up front (it only grows past it).
    public init(symbol: Symbol, priceDecimals: Int, settings: BacktestSettings, expectedOrders: Int = 1024) {
        self.symbol = symbol
        self.priceDecimals = priceDecimals
        self.settings = settings
        var state = BookState(cash: settings.initialCash)
        state.orders.reserveCapacity(expectedOrders)
        self.book = BookBox(state)
    }

    /// Runs `body` on the book under the lock. The book lives in a class so `body` mutates
    /// it in place: a `Mutex<BookState>` closure typed `throws(GordonError)` went through a
    /// reabstraction thunk that copied the state in and out, and every order then copied
    /// the whole order dictionary.
    private func locked<Result>(_ body: (inout BookState) throws(GordonError) -> Result) throws(GordonError) -> Result {
        try lock.withLock { _ throws(GordonError) -> Result in try body(&book.state) }
    }

    private func locked<Result>(_ body: (inout BookState) -> Result) -> Result {
        lock.withLock { _ in body(&book.state) }
    }

    // MARK: ExecutionModel

    public func submit(_ request: OrderRequest) async throws(GordonError) -> Order {
        try place(request)
    }

    public func cancel(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order {
        try cancelNow(symbol: symbol, clientOrderId: clientOrderId)
    }

    public func order(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order? {
        guard symbol == self.symbol else { return nil }
        return locked { $0.orders[clientOrderId] }
    }

    public func openOrders(symbol: Symbol?) async throws(GordonError) -> [Order] {
        guard symbol == nil || symbol == self.symbol else { return [] }
        return locked { book in book.openIds.compactMap { book.orders[$0] } }
    }

    public func balances() async throws(GordonError) -> [Balance] {
        let book = snapshot
        var result: [Balance] = []
        if let quote = symbol.quote { result.append(try Balance(asset: quote, free: book.cash, locked: book.lockedCash)) }
        if let base = symbol.base { result.append(try Balance(asset: base, free: book.base, locked: book.lockedBase)) }
        return result
    }

    // MARK: Synchronous core, used by the backtester

    /// The book's state: balances, fills and fees so far.
    public var snapshot: BookSnapshot { snapshot(fillsFrom: .max).0 }

    /// Every fill so far, oldest first.
    public var fills: [Fill] { snapshot(fillsFrom: 0).1 }

    /// The book now and the fills since `start` (an earlier snapshot's `fillCount`), read
    /// under one lock.
    public func snapshot(fillsFrom start: Int) -> (BookSnapshot, [Fill]) {
        locked { book in
            (BookSnapshot(cash: book.cash, lockedCash: book.lockedCash, base: book.base, lockedBase: book.lockedBase,
                          fillCount: book.fills.count, totalCommission: book.totalCommission,
                          referencePrice: book.referenceValue.map { BarSeries.exactPrice($0, decimals: priceDecimals) }),
             start < book.fills.count ? Array(book.fills[start...]) : [])
        }
    }

    /// Starts a bar: the reference price becomes its open, then resting limit orders the
    /// bar's range reaches fill (at the open if it already crossed them, else at the limit).
    public func open(bar: Bar) throws(GordonError) {
        let time = Timestamp(milliseconds: bar.openTime)
        try locked { (book: inout BookState) throws(GordonError) in
            book.referenceValue = bar.open
            book.time = time
            guard !book.openIds.isEmpty else { return }
            let open = BarSeries.exactPrice(bar.open, decimals: priceDecimals)
            for id in book.openIds {
                guard let order = book.orders[id], order.type == .limit || order.type == .limitMaker, let limit = order.price else {
                    continue
                }
                let reached = order.side == .buy ? bar.low <= limit.value.doubleApproximation : bar.high >= limit.value.doubleApproximation
                guard reached else { continue }
                let crossedAtOpen = order.side == .buy ? open <= limit : open >= limit
                var resting = order
                try fill(&book, &resting, at: crossedAtOpen ? open : limit, isMaker: !crossedAtOpen)
                book.orders[id] = resting
                book.openIds.removeAll { $0 == id }
            }
        }
    }

    /// Ends a bar: the reference price becomes its close.
    public func close(bar: Bar, closeTime: Int64) {
        locked { book in
            book.referenceValue = bar.close
            book.time = Timestamp(milliseconds: closeTime)
        }
    }

    /// Places an order; market orders and marketable IOC/FOK limits fill at once.
    public func place(_ request: OrderRequest) throws(GordonError) -> Order {
        guard request.symbol == symbol else {
            throw GordonError(.invalidOrder, "this backtest trades \(symbol) only", context: ["symbol": request.symbol.rawValue])
        }
        return try locked { (book: inout BookState) throws(GordonError) -> Order in
            if let existing = book.orders[request.clientOrderId] {
                guard existing.request == request else {
                    throw GordonError(.invalidOrder, "client order id reused with different terms",
                                      kind: .conflict, context: ["clientOrderId": request.clientOrderId.rawValue])
                }
                return existing
            }
            guard let referenceValue = book.referenceValue else {
                throw GordonError(.invalidBacktestConfig, "no price yet: the backtest has not opened a bar")
            }
            let reference = BarSeries.exactPrice(referenceValue, decimals: priceDecimals)
            let checkPrice = request.price ?? reference
            try settings.filters.validate(type: request.type, price: checkPrice, quantity: request.quantity)
            try reserve(&book, request: request, price: checkPrice)
            book.nextOrderId += 1
            var order = Order(accepting: request, at: book.time)
            try order.apply(status: .new, executedQuantity: .zero, cumulativeQuote: .zero, at: book.time,
                            exchangeOrderId: book.nextOrderId)
            switch request.type {
            case .market:
                // Fills at once: stored once, in its final state, never among the open orders.
                try fill(&book, &order, at: slipped(reference, side: request.side), isMaker: false)
                book.orders[request.clientOrderId] = order
                return order
            case .limit where request.timeInForce == .ioc || request.timeInForce == .fok:
                let marketable = request.side == .buy ? reference <= request.price! : reference >= request.price!
                if marketable {
                    try fill(&book, &order, at: reference, isMaker: false)
                } else {
                    try finish(&book, &order, status: .expired)
                }
                book.orders[request.clientOrderId] = order
                return order
            default:
                book.orders[request.clientOrderId] = order
                book.openIds.append(request.clientOrderId)
                return order
            }
        }
    }

    public func cancelNow(symbol: Symbol, clientOrderId: ClientOrderId) throws(GordonError) -> Order {
        try locked { (book: inout BookState) throws(GordonError) -> Order in
            guard symbol == self.symbol, let order = book.orders[clientOrderId] else {
                throw GordonError(.unknownOrder, "Unknown order sent.", context: ["clientOrderId": clientOrderId.rawValue])
            }
            guard order.isOpen else { return order }
            var canceled = order
            try finish(&book, &canceled, status: .canceled)
            book.orders[clientOrderId] = canceled
            book.openIds.removeAll { $0 == clientOrderId }
            return canceled
        }
    }

    // MARK: Book keeping

    private func slipped(_ price: Price, side: Side) throws(GordonError) -> Price {
        guard settings.slippage.isPositive else { return price }
        let factor = side == .buy ? ExactDecimal.one + settings.slippage : ExactDecimal.one - settings.slippage
        let moved = try Price(price.value.multiplied(by: factor).rounded(scale: 8, rule: side == .buy ? .up : .down))
        guard let tick = settings.filters.tickSize, tick.isPositive else { return moved }
        return try moved.rounded(toTick: tick, rule: side == .buy ? .up : .down)
    }

    /// Locks what a resting order needs; refuses what the free balance cannot cover.
    private func reserve(_ book: inout BookState, request: OrderRequest, price: Price) throws(GordonError) {
        switch request.side {
        case .buy:
            let notional = try price.notional(for: request.quantity)
            let cost = notional + settings.fees.commission(notional: notional, isMaker: false)
            guard cost <= book.cash else {
                throw GordonError(.insufficientBalance, "Account has insufficient balance for requested action.",
                                  context: ["required": cost.description, "free": book.cash.description])
            }
            if request.type != .market {
                book.cash -= cost
                book.lockedCash += cost
                book.locks[request.clientOrderId] = cost
            }
        case .sell:
            guard request.quantity.value <= book.base else {
                throw GordonError(.insufficientBalance, "Account has insufficient balance for requested action.",
                                  context: ["required": request.quantity.description, "free": book.base.description])
            }
            if request.type != .market {
                book.base -= request.quantity.value
                book.lockedBase += request.quantity.value
                book.locks[request.clientOrderId] = request.quantity.value
            }
        }
    }

    private func release(_ book: inout BookState, id: ClientOrderId, side: Side) {
        guard let locked = book.locks.removeValue(forKey: id) else { return }
        if side == .buy {
            book.lockedCash -= locked
            book.cash += locked
        } else {
            book.lockedBase -= locked
            book.base += locked
        }
    }

    /// Fills the rest of `order` at `price` (or as much as the cash covers, for a buy) and
    /// releases what it locked. The caller stores the order.
    private func fill(_ book: inout BookState, _ order: inout Order, at price: Price, isMaker: Bool) throws(GordonError) {
        let id = order.clientOrderId
        release(&book, id: id, side: order.side)
        let rate = settings.fees.rate(isMaker: isMaker)
        var quantity = order.remainingQuantity.value
        var notional = try price.value.multiplied(by: quantity)
        var commission = notional * rate
        if order.side == .buy, notional + commission > book.cash {
            let perUnit = try price.value.multiplied(by: ExactDecimal.one + rate)
            let affordable = try book.cash.divided(by: perUnit, scale: 8, rounding: .down)
            quantity = try settings.filters.roundedQuantity(Quantity(affordable), type: order.type).value
            notional = try price.value.multiplied(by: quantity)
            commission = notional * rate
        } else if order.side == .sell, quantity > book.base {
            quantity = book.base
            notional = try price.value.multiplied(by: quantity)
            commission = notional * rate
        }
        if quantity.isPositive {
            if order.side == .buy {
                book.cash -= notional + commission
                book.base += quantity
            } else {
                book.cash += notional - commission
                book.base -= quantity
            }
            book.totalCommission += commission
            book.nextTradeId += 1
            book.fills.append(try Fill(
                tradeId: book.nextTradeId, clientOrderId: id, exchangeOrderId: order.exchangeOrderId ?? 0, symbol: symbol,
                side: order.side, price: price, quantity: Quantity(quantity), quoteQuantity: notional, commission: commission,
                commissionAsset: symbol.quote ?? .usdt, isMaker: isMaker, time: book.time))
        }
        let executed = try Quantity(order.executedQuantity.value + quantity)
        let status: OrderStatus = executed == order.quantity ? .filled : .expired
        try order.apply(status: status, executedQuantity: executed, cumulativeQuote: order.cumulativeQuoteQuantity + notional,
                        at: book.time)
    }

    private func finish(_ book: inout BookState, _ order: inout Order, status: OrderStatus) throws(GordonError) {
        release(&book, id: order.clientOrderId, side: order.side)
        try order.apply(status: status, executedQuantity: order.executedQuantity,
                        cumulativeQuote: order.cumulativeQuoteQuantity, at: book.time)
    }
}

/// Balances and fills at one moment of a backtest.
public struct BookSnapshot: Sendable, Hashable {
    /// Free quote asset.
    public let cash: ExactDecimal
    public let lockedCash: ExactDecimal
    /// Free base asset (the position).
    public let base: ExactDecimal
    public let lockedBase: ExactDecimal
    /// Fills so far (`BacktestExecution.snapshot(fillsFrom:)` reads them).
    public let fillCount: Int
    public let totalCommission: ExactDecimal
    public let referencePrice: Price?

    /// Cash plus the position valued at `price`, exactly.
    public func equity(at price: Price) -> ExactDecimal {
        cash + lockedCash + (base + lockedBase) * price.value
    }
}

/// The book behind `BacktestExecution`'s lock (the only access path), hence unchecked.
final class BookBox: @unchecked Sendable {
    var state: BookState
    init(_ state: BookState) { self.state = state }
}

struct BookState {
    var cash: ExactDecimal
    var lockedCash: ExactDecimal = .zero
    var base: ExactDecimal = .zero
    var lockedBase: ExactDecimal = .zero
    var locks: [ClientOrderId: ExactDecimal] = [:]
    var orders: [ClientOrderId: Order] = [:]
    var openIds: [ClientOrderId] = []
    var fills: [Fill] = []
    var totalCommission: ExactDecimal = .zero
    /// The price market orders fill at before slippage: the open or close of the bar.
    var referenceValue: Double?
    var time = Timestamp(milliseconds: 0)
    var nextOrderId: Int64 = 0
    var nextTradeId: Int64 = 0
}
