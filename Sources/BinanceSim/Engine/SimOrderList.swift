public import GordonDomain

/// An OCO order list: two orders of one symbol, one side and one quantity, of which the
/// first to start working (a stop that triggers, a limit that fills) expires the other.
///
/// Until then the legs share one lock, since at most one of them can ever execute: a SELL
/// OCO locks its quantity of base once, a BUY OCO the larger of its legs' quote amounts. When
/// a leg starts, the shared lock becomes that leg's own; when the list is canceled it is
/// released whole.
public struct SimOrderList: Sendable, Hashable {
    public struct Leg: Sendable, Hashable {
        public let orderId: Int64
        public let clientOrderId: String
    }

    /// Exchange-wide, from 1 (order ids count per symbol, order list ids do not: rest-api.md's
    /// examples show list 27 holding orders 4 and 5).
    public let orderListId: Int64
    public let listClientOrderId: String
    public let symbol: Symbol
    /// The stop-loss leg first, as Binance lists them.
    public let legs: [Leg]
    public let transactionTime: Int64
    /// ALL_DONE once a leg started working or the list was canceled; EXEC_STARTED before.
    public internal(set) var isDone = false
    public internal(set) var updateTime: Int64
    let lockAsset: Asset
    /// What both legs hold between them; zero once the list is done.
    var sharedLock: ExactDecimal

    public var listStatusType: String { isDone ? "ALL_DONE" : "EXEC_STARTED" }
    public var listOrderStatus: String { isDone ? "ALL_DONE" : "EXECUTING" }
}

/// `POST /api/v3/orderList/oco`: one quantity and side for both legs, each leg its own type,
/// prices and client id.
public struct SimOCOParams: Sendable, Hashable {
    public struct Leg: Sendable, Hashable {
        public var type: OrderType
        public var price: ExactDecimal?
        public var stopPrice: ExactDecimal?
        public var timeInForce: TimeInForce?
        public var clientOrderId: String?

        public init(type: OrderType, price: ExactDecimal? = nil, stopPrice: ExactDecimal? = nil,
                    timeInForce: TimeInForce? = nil, clientOrderId: String? = nil) {
            self.type = type
            self.price = price
            self.stopPrice = stopPrice
            self.timeInForce = timeInForce
            self.clientOrderId = clientOrderId
        }
    }

    public var symbol: Symbol
    public var side: Side
    public var quantity: ExactDecimal
    public var above: Leg
    public var below: Leg
    public var listClientOrderId: String?
    public var selfTradePreventionMode: String?

    public init(symbol: Symbol, side: Side, quantity: ExactDecimal, above: Leg, below: Leg,
                listClientOrderId: String? = nil, selfTradePreventionMode: String? = nil) {
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.above = above
        self.below = below
        self.listClientOrderId = listClientOrderId
        self.selfTradePreventionMode = selfTradePreventionMode
    }

    func orderParams(_ leg: Leg) -> SimOrderParams {
        SimOrderParams(symbol: symbol, side: side, type: leg.type, timeInForce: leg.timeInForce, quantity: quantity,
                       price: leg.price, stopPrice: leg.stopPrice, newClientOrderId: leg.clientOrderId,
                       selfTradePreventionMode: selfTradePreventionMode)
    }
}
