#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import GordonDomain
import GordonKernel
import GordonProtocol
import Synchronization
import Testing

/// The error thrown by `body`, or nil if it did not throw.
func thrownError<T>(_ body: () throws(GordonError) -> T) -> GordonError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// A clock a test moves by hand.
final class ManualClock: Sendable {
    private let milliseconds: Mutex<Int64>

    init(_ milliseconds: Int64) { self.milliseconds = Mutex(milliseconds) }

    func set(_ value: Int64) { milliseconds.withLock { $0 = value } }
    func now() -> Timestamp { Timestamp(milliseconds: milliseconds.withLock { $0 }) }
}

enum Golden {
    /// `Golden/` beside this file, found through `#filePath` so no bundle is needed.
    static let directory: String = {
        let file = "\(#filePath)"
        return String(file[..<file.lastIndex(of: "/")!]) + "/Golden/"
    }()

    static func bytes(_ name: String) throws -> [UInt8] {
        let path = directory + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw GordonError(.internalInvariant, "golden file missing", context: ["path": path])
        }
        return Array(data)
    }

    static func text(_ name: String) throws -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }
}

func dec(_ text: String) throws(GordonError) -> ExactDecimal { try ExactDecimal(parsing: text) }
func price(_ text: String) throws(GordonError) -> Price { try Price(parsing: text) }
func qty(_ text: String) throws(GordonError) -> Quantity { try Quantity(parsing: text) }
func ts(_ milliseconds: Int64) -> Timestamp { Timestamp(milliseconds: milliseconds) }

/// The events the golden files hold, built through the public API.
enum Fixtures {
    static let codec = EventCodec()
    static let occurredAt = ts(1_732_492_800_123)

    static func envelope<P: EventPayload>(_ payload: P, source: ServiceName) throws(GordonError) -> EventEnvelope<P> {
        EventEnvelope(eventId: try EventId(parsing: "01936a1e-8b4c-7a3f-9c2d-5e6f7a8b9c0d"),
                      traceId: try TraceId(parsing: "4bf92f3577b34da6a3ce929d0e0e4736"),
                      source: source, occurredAt: occurredAt, payload: payload)
    }

    static func bot() throws(GordonError) -> BotId { try BotId("ema-cross-1") }
    static func btcusdt() throws(GordonError) -> Symbol { try Symbol("BTCUSDT") }

    static func kline() throws(GordonError) -> Kline {
        try Kline(symbol: btcusdt(), interval: .oneMinute, openTime: ts(1_732_492_800_000), closeTime: ts(1_732_492_859_999),
                  open: price("97000.01"), high: price("97123.45"), low: price("96950"), close: price("97100.5"),
                  volume: qty("12.34567"), quoteVolume: dec("1198765.4321"), trades: 1523,
                  takerBuyBaseVolume: dec("6.1"), takerBuyQuoteVolume: dec("592345.67"), isClosed: true)
    }

    static func klineEvent() throws(GordonError) -> EventEnvelope<KlineEvent> {
        try envelope(KlineEvent(kline()), source: .data)
    }

    static func metricEvent() throws(GordonError) -> EventEnvelope<MetricEvent> {
        try envelope(MetricEvent(name: .fearGreed, value: dec("72"), observedAt: ts(1_732_492_800_000),
                                 source: "alternative.me", unit: "index"), source: .data)
    }

    static func limitIntent() throws(GordonError) -> OrderIntentEvent {
        try OrderIntentEvent(intentId: ClientOrderId("ema-cross-1-000042"), botId: bot(), symbol: btcusdt(), side: .buy,
                             orderType: .limit, timeInForce: .gtc, price: price("96500"), quantity: qty("0.0015"),
                             reason: "EMA 12 crossed above EMA 26", createdAt: ts(1_732_492_800_100))
    }

    static func orderIntentEvent() throws(GordonError) -> EventEnvelope<OrderIntentEvent> {
        try envelope(limitIntent(), source: .bot)
    }

    static func marketQuoteIntentEvent() throws(GordonError) -> EventEnvelope<OrderIntentEvent> {
        try envelope(OrderIntentEvent(intentId: ClientOrderId("ema-cross-1-000043"), botId: bot(), symbol: btcusdt(),
                                      side: .buy, orderType: .market, quoteOrderQuantity: qty("100"),
                                      reason: "rebalance: spend 100 USDT", createdAt: ts(1_732_492_800_100)), source: .bot)
    }

    static func orderUpdateEvent() throws(GordonError) -> EventEnvelope<OrderUpdateEvent> {
        try envelope(OrderUpdateEvent(clientOrderId: ClientOrderId("ema-cross-1-000042"), exchangeOrderId: 28_457_123_456,
                                      botId: bot(), symbol: btcusdt(), side: .buy, orderType: .limit, status: .partiallyFilled,
                                      price: price("96500"), quantity: qty("0.0015"), executedQuantity: qty("0.0005"),
                                      cumulativeQuoteQuantity: dec("48.25"), updatedAt: ts(1_732_492_801_000)), source: .executor)
    }

    static func rejectedOrderUpdateEvent() throws(GordonError) -> EventEnvelope<OrderUpdateEvent> {
        try envelope(OrderUpdateEvent(clientOrderId: ClientOrderId("ema-cross-1-000044"), botId: bot(), symbol: btcusdt(),
                                      side: .sell, orderType: .market, status: .rejected, quantity: qty("0.5"),
                                      rejectReason: "Account has insufficient balance for requested action.",
                                      updatedAt: ts(1_732_492_801_000)), source: .executor)
    }

    static func fillEvent() throws(GordonError) -> EventEnvelope<FillEvent> {
        let fill = try Fill(tradeId: 3_141_592_653, clientOrderId: ClientOrderId("ema-cross-1-000042"),
                            exchangeOrderId: 28_457_123_456, symbol: btcusdt(), side: .buy, price: price("96500"),
                            quantity: qty("0.0005"), quoteQuantity: dec("48.25"), commission: dec("0.0000005"),
                            commissionAsset: .btc, isMaker: true, time: ts(1_732_492_800_950))
        return try envelope(FillEvent(fill: fill, botId: bot()), source: .executor)
    }

    static func riskCommandEvent() throws(GordonError) -> EventEnvelope<RiskCommandEvent> {
        try envelope(RiskCommandEvent(command: .halt, target: .all, reason: "daily loss limit reached",
                                      issuedBy: .breaker(.dailyLoss), issuedAt: ts(1_732_492_800_050)), source: .risk)
    }

    static func breakerEvent() throws(GordonError) -> EventEnvelope<BreakerEvent> {
        try envelope(BreakerEvent(breaker: .dailyLoss, state: .tripped, value: dec("-0.0312"), threshold: dec("-0.03"),
                                  reason: "daily loss 3.12% beyond 3%", at: ts(1_732_492_800_040)), source: .risk)
    }

    static func botLifecycleEvent() throws(GordonError) -> EventEnvelope<BotLifecycleEvent> {
        try envelope(BotLifecycleEvent(botId: bot(), state: .leaseAcquired, instanceId: "srv-apps:4242",
                                       reason: "previous lease expired", at: ts(1_732_492_800_010)), source: .bot)
    }

    static func reconciliationEvent() throws(GordonError) -> EventEnvelope<ReconciliationEvent> {
        let divergence = ReconciliationEvent.OrderDivergence(clientOrderId: try ClientOrderId("b1a2b3c4-m0abc1b"), kind: .conflicting,
                                                             gordon: .filled, exchange: .canceled)
        let foreign = ReconciliationEvent.ForeignOrder(clientOrderId: try ClientOrderId("web_3f2a9c"), symbol: try Symbol("BTCUSDT"),
                                                       side: .sell, quantity: try qty("0.002"))
        let shortfall = ReconciliationEvent.BalanceShortfall(asset: .btc, positions: try dec("0.0105"), account: try dec("0.0085"))
        return try envelope(ReconciliationEvent(trigger: "timer", orders: [divergence], foreignOrders: [foreign], balances: [shortfall],
                                                at: ts(1_732_492_800_070)), source: .executor)
    }

    /// Every golden file with the event it must hold, as `AnyEvent`.
    static func all() throws(GordonError) -> [(file: String, event: AnyEvent)] {
        [
            ("kline.json", .kline(try klineEvent())),
            ("metric.json", .metric(try metricEvent())),
            ("order_intent.json", .orderIntent(try orderIntentEvent())),
            ("order_intent_market_quote.json", .orderIntent(try marketQuoteIntentEvent())),
            ("order_update.json", .orderUpdate(try orderUpdateEvent())),
            ("order_update_rejected.json", .orderUpdate(try rejectedOrderUpdateEvent())),
            ("fill.json", .fill(try fillEvent())),
            ("risk_command.json", .riskCommand(try riskCommandEvent())),
            ("breaker.json", .breaker(try breakerEvent())),
            ("bot_lifecycle.json", .botLifecycle(try botLifecycleEvent())),
            ("reconciliation.json", .reconciliation(try reconciliationEvent())),
        ]
    }

    static let goldenFiles = [
        "kline.json", "metric.json", "order_intent.json", "order_intent_market_quote.json", "order_update.json",
        "order_update_rejected.json", "fill.json", "risk_command.json", "breaker.json", "bot_lifecycle.json",
        "reconciliation.json",
    ]

    static func encode(_ event: AnyEvent) throws(GordonError) -> [UInt8] {
        switch event {
        case .kline(let envelope): try codec.encode(envelope)
        case .metric(let envelope): try codec.encode(envelope)
        case .orderIntent(let envelope): try codec.encode(envelope)
        case .orderUpdate(let envelope): try codec.encode(envelope)
        case .fill(let envelope): try codec.encode(envelope)
        case .riskCommand(let envelope): try codec.encode(envelope)
        case .breaker(let envelope): try codec.encode(envelope)
        case .botLifecycle(let envelope): try codec.encode(envelope)
        case .reconciliation(let envelope): try codec.encode(envelope)
        }
    }
}

/// A golden file with one edit applied; the edit must apply, so a fixture change cannot
/// silently turn a negative test into a test of the unedited file.
func edited(_ file: String, replacing old: String, with new: String) throws -> [UInt8] {
    let text = try Golden.text(file)
    guard text.contains(old) else {
        throw GordonError(.internalInvariant, "edit does not apply", context: ["file": file, "old": old])
    }
    return Array(text.replacing(old, with: new).utf8)
}
