public import GordonKernel

/// Where orders go: the live executor (Binance or BinanceSim) and the backtester implement
/// it, so a strategy's orders are handled by the same contract in both.
///
/// Every method throws only `GordonError`; an implementation maps transport and exchange
/// failures to a code and a kind, so callers decide on retry by `ErrorKind` alone.
public protocol ExecutionModel: Sendable {
    /// Places the order, or returns the one already placed under `request.clientOrderId`.
    ///
    /// Must be idempotent by client order id: a resubmission of a known id (after a
    /// timeout, a crash, a redelivered intent) returns the existing order and never places a
    /// second one. Whether the request's other fields match the existing order is the
    /// implementation's to check; a mismatch is a `conflict`, not a new order.
    func submit(_ request: OrderRequest) async throws(GordonError) -> Order

    /// Cancels an open order and returns its final state. Canceling an order that already
    /// reached a terminal state returns it unchanged rather than failing.
    func cancel(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order

    /// The order with this client id, or nil if none was ever placed.
    func order(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> Order?

    /// Orders not in a terminal state, for one symbol or (nil) all.
    func openOrders(symbol: Symbol?) async throws(GordonError) -> [Order]

    func balances() async throws(GordonError) -> [Balance]
}
