public import GordonDomain
public import GordonKernel

/// Where Gordon's records and the exchange disagree, on `gordon.exec.reconciliation`: what
/// one reconciliation of the executor found. The executor publishes it when the findings
/// change, so a clean one follows the last disagreement and tells its end.
///
/// Each list holds at most `maxItems` entries (the event must stay far below the codec's
/// size bound); the executor's metrics count them all.
public struct ReconciliationEvent: EventPayload, Hashable {
    public static let eventType = "reconciliation"
    public static let maxItems = 100

    /// An order whose records disagree.
    public struct OrderDivergence: Sendable, Hashable, Codable {
        public enum Kind: String, Sendable, Hashable, Codable, CaseIterable {
            /// Gordon holds it closed, the exchange still works it.
            case openOnlyAtExchange = "open_only_at_exchange"
            /// Gordon saw it acknowledged; the exchange knows no such order.
            case unknownToExchange = "unknown_to_exchange"
            /// The exchange's state is one Gordon's record cannot move to.
            case conflicting
        }

        public let clientOrderId: ClientOrderId
        public let kind: Kind
        public let gordon: OrderStatus
        public let exchange: OrderStatus?

        public init(clientOrderId: ClientOrderId, kind: Kind, gordon: OrderStatus, exchange: OrderStatus?) {
            self.clientOrderId = clientOrderId
            self.kind = kind
            self.gordon = gordon
            self.exchange = exchange
        }

        enum CodingKeys: String, CodingKey {
            case clientOrderId = "client_order_id"
            case kind, gordon, exchange
        }
    }

    /// An open order on the account that Gordon did not place (placed by hand): left alone.
    public struct ForeignOrder: Sendable, Hashable, Codable {
        public let clientOrderId: ClientOrderId
        public let symbol: Symbol
        public let side: Side
        public let quantity: Quantity

        public init(clientOrderId: ClientOrderId, symbol: Symbol, side: Side, quantity: Quantity) {
            self.clientOrderId = clientOrderId
            self.symbol = symbol
            self.side = side
            self.quantity = quantity
        }

        enum CodingKeys: String, CodingKey {
            case clientOrderId = "client_order_id"
            case symbol, side, quantity
        }
    }

    /// The account holds less of an asset than the bots' positions say.
    public struct BalanceShortfall: Sendable, Hashable, Codable {
        public let asset: Asset
        public let positions: ExactDecimal
        public let account: ExactDecimal

        public init(asset: Asset, positions: ExactDecimal, account: ExactDecimal) {
            self.asset = asset
            self.positions = positions
            self.account = account
        }
    }

    /// What started the reconciliation (`start`, `timer`, `streamReconnected`, `outcomeUnknown`).
    public let trigger: String
    public let orders: [OrderDivergence]
    public let foreignOrders: [ForeignOrder]
    public let balances: [BalanceShortfall]
    public let at: Timestamp

    /// The trigger is 1–32 printable ASCII characters; each list at most `maxItems` long.
    public init(trigger: String, orders: [OrderDivergence], foreignOrders: [ForeignOrder], balances: [BalanceShortfall],
                at: Timestamp) throws(GordonError) {
        guard Text.isPrintableWord(trigger, maxBytes: 32) else {
            throw invalidPayload(Self.eventType, "trigger must be 1-32 printable ASCII characters without spaces",
                                 ["trigger": Text.quoted(trigger)])
        }
        guard max(orders.count, foreignOrders.count, balances.count) <= Self.maxItems else {
            throw invalidPayload(Self.eventType, "each list holds at most \(Self.maxItems) entries", [
                "orders": "\(orders.count)", "foreignOrders": "\(foreignOrders.count)", "balances": "\(balances.count)",
            ])
        }
        self.trigger = trigger
        self.orders = orders
        self.foreignOrders = foreignOrders
        self.balances = balances
        self.at = at
    }

    /// Gordon and the exchange agree.
    public var isClean: Bool { orders.isEmpty && foreignOrders.isEmpty && balances.isEmpty }

    public var subject: Subject { .reconciliation }

    enum CodingKeys: String, CodingKey {
        case trigger, orders
        case foreignOrders = "foreign_orders"
        case balances, at
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let trigger = try container.decode(String.self, forKey: .trigger)
        let orders = try container.decode([OrderDivergence].self, forKey: .orders)
        let foreignOrders = try container.decode([ForeignOrder].self, forKey: .foreignOrders)
        let balances = try container.decode([BalanceShortfall].self, forKey: .balances)
        let at = try container.decodeTimestamp(forKey: .at)
        self = try decoder.validating { () throws(GordonError) in
            try ReconciliationEvent(trigger: trigger, orders: orders, foreignOrders: foreignOrders, balances: balances, at: at)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(trigger, forKey: .trigger)
        try container.encode(orders, forKey: .orders)
        try container.encode(foreignOrders, forKey: .foreignOrders)
        try container.encode(balances, forKey: .balances)
        try container.encode(at, forKey: .at)
    }
}
