public import GordonDomain
public import GordonKernel
public import GordonProtocol
public import GordonStrategy
public import Logging
import NIOConcurrencyHelpers
public import PostgresNIO

/// A running bot's brain: its plan over the klines of its series, and the one thing it does
/// about a kline, inside the consumer's transaction: read what the executor recorded it
/// holds, close the bar, and record at most one intent (fenced by the lease).
///
/// Each bar is closed once. A kline whose transaction is retried, or the newest warm-up bar
/// arriving as the first delivered kline (stored before the previous instance handled it),
/// is acted on with the signal its bar already gave; an older kline is stale and only
/// recorded as handled, since acting on a signal bars late is not what the plan tested.
public final class BotEngine: Sendable {
    public struct Counters: Sendable, Equatable {
        public var barsClosed = 0
        public var intents = 0
        public var staleKlines = 0
        public var heldWhilePending = 0
        public var heldWhilePaused = 0
        public var otherSeries = 0
    }

    public let settings: BotSettings
    /// Below this quote value a holding is dust, not a position, and an entry is not sent.
    public let minimumNotional: ExactDecimal
    let leaseToken: String
    let logger: Logger
    let ids: EventIdGenerator
    private let state: NIOLockedValueBox<(plan: LivePlan, counters: Counters, entryIndex: Int?)>

    public init(settings: BotSettings, leaseToken: String, minimumNotional: ExactDecimal = ExactDecimal(significand: 5, scale: 0),
                logger: Logger, ids: EventIdGenerator = EventIdGenerator()) throws(GordonError) {
        self.settings = settings
        self.leaseToken = leaseToken
        self.minimumNotional = minimumNotional
        self.logger = logger
        self.ids = ids
        let plan = try LivePlan(plan: settings.plan, symbol: settings.symbol, interval: settings.interval)
        self.state = NIOLockedValueBox((plan, Counters(), nil))
    }

    public var counters: Counters { state.withLockedValue { $0.counters } }
    public var barsClosed: Int { state.withLockedValue { $0.plan.barCount } }
    public var lastOpenTime: Int64? { state.withLockedValue { $0.plan.lastOpenTime } }
    /// How many closed bars the strategy wants before it can signal.
    public var warmUpBars: Int { state.withLockedValue { $0.plan.warmUp } }

    /// Closes history bars (oldest first) with what the bot holds now; their signals are not
    /// acted on, except the newest one's if its kline arrives first (see the type's comment).
    public func warmUp(_ klines: [Kline], holdings: BotHoldings) {
        for kline in klines where kline.isClosed && kline.symbol == settings.symbol && kline.interval == settings.interval {
            _ = close(kline, holdings: holdings)
        }
    }

    /// The consumer's handler: everything it writes is in `connection`'s open transaction.
    public func handle(_ event: AnyEvent, on connection: PostgresConnection) async throws {
        guard case .kline(let envelope) = event else { return }
        let kline = envelope.payload.kline
        guard kline.isClosed, kline.symbol == settings.symbol, kline.interval == settings.interval else {
            state.withLockedValue { $0.counters.otherSeries += 1 }
            return
        }
        let desired = try await BotRecords.desiredState(botId: settings.botId, on: connection, logger: logger) ?? .stopped
        let holdings = try await BotRecords.holdings(symbol: settings.symbol, on: connection, logger: logger)
        guard let signal = close(kline, holdings: holdings) else {
            state.withLockedValue { $0.counters.staleKlines += 1 }
            logger.notice("stale kline: handled without acting on its signal", metadata: [
                "bot": "\(settings.botId.rawValue)", "open_time": "\(kline.openTime.milliseconds)",
            ])
            return
        }
        let price = kline.close.value
        let decision = state.withLockedValue { $0.plan.decision(for: signal, isOpen: holdings.isOpen(at: price, minimumNotional: minimumNotional)) }
        if decision == .hold { return }
        guard desired == .running else {
            state.withLockedValue { $0.counters.heldWhilePaused += 1 }
            return
        }
        if let pending = holdings.pendingIntent {
            state.withLockedValue { $0.counters.heldWhilePending += 1 }
            logger.notice("signal not acted on: the previous intent is still with the executor", metadata: [
                "bot": "\(settings.botId.rawValue)", "intent": "\(pending)", "decision": "\(decision)",
            ])
            return
        }
        guard let intent = try intent(for: decision, kline: kline, holdings: holdings) else { return }
        let event = EventEnvelope(payload: intent, source: .bot, traceId: envelope.traceId, occurredAt: intent.createdAt, ids: ids)
        try await IntentRecorder.record(event, lease: leaseToken, on: connection, logger: logger)
        state.withLockedValue { $0.counters.intents += 1 }
        logger.info("intent recorded", metadata: [
            "bot": "\(settings.botId.rawValue)", "intent": "\(intent.intentId.rawValue)", "side": "\(intent.side.rawValue)",
            "reason": "\(intent.reason)", "trace_id": "\(envelope.traceId.hex)",
        ])
    }

    /// Closes the kline's bar if it is new and returns its signal; the last bar's signal
    /// again for the last bar; nil for an older bar.
    func close(_ kline: Kline, holdings: BotHoldings) -> Signal? {
        let bar = Bar(openTime: kline.openTime.milliseconds, open: Self.double(kline.open.value), high: Self.double(kline.high.value),
                      low: Self.double(kline.low.value), close: Self.double(kline.close.value), volume: Self.double(kline.volume.value))
        let isOpen = holdings.isOpen(at: kline.close.value, minimumNotional: minimumNotional)
        return state.withLockedValue { state -> Signal? in
            if let last = state.plan.lastOpenTime, bar.openTime <= last {
                return bar.openTime == last ? state.plan.lastSignal : nil
            }
            // The strategy's view of the position: overlays (stops, time exits) read it. The
            // entry bar is the first bar the bot saw the position open on.
            if !isOpen { state.entryIndex = nil } else if state.entryIndex == nil { state.entryIndex = state.plan.nextIndex }
            let view = isOpen
                ? PositionView(isOpen: true, entryPrice: Self.double(holdings.averageEntryPrice), entryIndex: state.entryIndex ?? 0,
                               lastExitIndex: nil, quantity: Self.double(holdings.quantity))
                : PositionView.flat
            state.counters.barsClosed += 1
            return state.plan.close(bar, position: view)
        }
    }

    /// The intent for a decision: a quote-sized market buy of the sized share of the bot's
    /// equity, or a market sell of everything held. Its id is derived from the bot and the
    /// bar, so the same bar can never yield two orders.
    func intent(for decision: LivePlan.Decision, kline: Kline, holdings: BotHoldings) throws(GordonError) -> OrderIntentEvent? {
        let now = EventIdGenerator.systemClock()
        switch decision {
        case .hold:
            return nil
        case .enter(let fraction, let reason):
            let equity = settings.allocation + holdings.realizedProfit
            let budget = try Self.quote(equity, fraction: fraction)
            guard budget >= minimumNotional else {
                logger.notice("entry not sent: the sized amount is below the minimum notional", metadata: [
                    "bot": "\(settings.botId.rawValue)", "amount": "\(budget)", "minimum": "\(minimumNotional)",
                ])
                return nil
            }
            return try OrderIntentEvent(intentId: intentId(kline, side: .buy), botId: settings.botId, symbol: settings.symbol, side: .buy,
                                        orderType: .market, quoteOrderQuantity: try Quantity(budget), reason: reason, createdAt: now)
        case .exit(let reason):
            guard holdings.quantity.isPositive else { return nil }
            return try OrderIntentEvent(intentId: intentId(kline, side: .sell), botId: settings.botId, symbol: settings.symbol, side: .sell,
                                        orderType: .market, quantity: try Quantity(holdings.quantity), reason: reason, createdAt: now)
        }
    }

    /// `b<8 hex of the bot id's FNV-1a>-<open time, base 36><b|s>`: at most 21 characters,
    /// inside Binance's 36 and the client-order-id alphabet.
    func intentId(_ kline: Kline, side: Side) throws(GordonError) -> ClientOrderId {
        var hash: UInt32 = 2_166_136_261
        for byte in settings.botId.rawValue.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let hex = String(hash, radix: 16)
        let padded = String(repeating: "0", count: 8 - hex.count) + hex
        return try ClientOrderId("b\(padded)-\(String(kline.openTime.milliseconds, radix: 36))\(side == .buy ? "b" : "s")")
    }

    /// `fraction` of `equity`, rounded down to 8 places (never more than the sizing asked).
    static func quote(_ equity: ExactDecimal, fraction: Double) throws(GordonError) -> ExactDecimal {
        guard fraction > 0, fraction.isFinite, equity.isPositive else { return .zero }
        // The fraction is the sizing rule's double; 1e-8 of a unit is far below any lot.
        let parts = Int128((min(fraction, 1) * 100_000_000).rounded(.down))
        return try equity.multiplied(by: ExactDecimal(significand: parts, scale: 8)).rounded(scale: 8, rule: .down)
    }

    /// Binance's decimal text read as a double, as the backtester reads its CSV.
    static func double(_ value: ExactDecimal) -> Double { Double(value.description) ?? value.doubleApproximation }
}
