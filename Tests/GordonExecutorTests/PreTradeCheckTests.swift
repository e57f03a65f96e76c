import GordonDomain
import GordonExecutor
import GordonKernel
import Testing

@Suite("gordon-executor: pre-trade checks")
struct PreTradeCheckTests {
    static let limits = TradingLimits(maxOrderNotional: 1000, maxPositionNotional: 2000, maxOpenOrders: 2, maxGrossExposure: 5000)

    static func request(_ side: Side, _ quantity: String, price: String? = "40000", stop: String? = nil, type: OrderType = .limit) throws -> OrderRequest {
        try OrderRequest(clientOrderId: try ClientOrderId("i1"), botId: try BotId("alpha"), symbol: try Symbol("BTCUSDT"), side: side,
                         type: type, timeInForce: [.limit, .stopLossLimit].contains(type) ? .gtc : nil, price: try price.map { try Price(parsing: $0) },
                         stopPrice: try stop.map { try Price(parsing: $0) }, quantity: try Quantity(parsing: quantity))
    }

    static func context(halted: Bool = false, state: DesiredState = .running, open: Int = 0, position: String = "0",
                        openBuys: ExactDecimal = 0, openSells: String = "0",
                        exposure: ExactDecimal = 0, usdt: ExactDecimal = 10_000, btc: String = "1") throws -> PreTradeContext {
        PreTradeContext(halted: halted, desiredState: state, openOrders: open, position: try ExactDecimal(parsing: position),
                        openBuyNotional: openBuys, openSellQuantity: try ExactDecimal(parsing: openSells),
                        lastPrice: try Price(parsing: "40000"), grossExposure: exposure,
                        free: [.usdt: usdt, .btc: try ExactDecimal(parsing: btc)])
    }

    @Test("an order inside every limit is placed")
    func placesInsideLimits() throws {
        #expect(PreTradeCheck.evaluate(try Self.request(.buy, "0.02"), limits: Self.limits, context: try Self.context()) == nil)
        #expect(PreTradeCheck.evaluate(try Self.request(.sell, "0.02"), limits: Self.limits, context: try Self.context(position: "0.02")) == nil)
    }

    @Test("each limit refuses with its own code", arguments: [
        ("halted", PreTradeRefusal.Code.halted), ("paused", .botNotRunning), ("open", .openOrderLimit), ("large", .orderTooLarge),
        ("position", .positionLimit), ("exposure", .exposureLimit), ("poor", .insufficientBalance), ("short", .wouldShort),
        ("market-large", .orderTooLarge), ("stop-large", .orderTooLarge), ("open-buys", .positionLimit), ("open-sells", .wouldShort),
        ("cheap-bid", .positionLimit),
    ])
    func refuses(_ case: String, _ code: PreTradeRefusal.Code) throws {
        let (request, context): (OrderRequest, PreTradeContext) = switch `case` {
        case "halted": (try Self.request(.buy, "0.02"), try Self.context(halted: true))
        case "paused": (try Self.request(.buy, "0.02"), try Self.context(state: .paused))
        case "open": (try Self.request(.buy, "0.02"), try Self.context(open: 2))
        case "large": (try Self.request(.buy, "0.026"), try Self.context())  // 1040 USDT
        case "position": (try Self.request(.buy, "0.02"), try Self.context(position: "0.04"))  // 0.06 × 40000 = 2400
        case "exposure": (try Self.request(.buy, "0.02"), try Self.context(exposure: 4500))
        case "poor": (try Self.request(.buy, "0.02"), try Self.context(usdt: 500))
        case "short": (try Self.request(.sell, "0.02"), try Self.context(position: "0.01"))
        case "market-large": (try Self.request(.buy, "0.03", price: nil, type: .market), try Self.context())  // valued at the last price
        // A buy stop far above the market executes near its trigger: 0.02 × 60000 = 1200.
        case "stop-large": (try Self.request(.buy, "0.02", price: nil, stop: "60000", type: .stopLoss), try Self.context())
        // Open buys count as filled: 1500 resting + 800 = 2300 > 2000.
        case "open-buys": (try Self.request(.buy, "0.02"), try Self.context(openBuys: 1500))
        // Two sells of 0.02 against a 0.03 position: the second would short.
        case "open-sells": (try Self.request(.sell, "0.02"), try Self.context(position: "0.03", openSells: "0.02"))
        // A bid far below the market does not shrink the position held: 0.05 × 40000 = 2000, + 0.001 × 40000.
        default: (try Self.request(.buy, "0.001", price: "100"), try Self.context(position: "0.05"))
        }
        #expect(PreTradeCheck.evaluate(request, limits: Self.limits, context: context)?.code == code)
    }

    @Test("a flatten sells what the bot holds even while halted, paused and past every size limit; never more")
    func flatten() throws {
        let context = try Self.context(halted: true, state: .stopped, open: 9, position: "5", btc: "5")
        #expect(PreTradeCheck.evaluate(try Self.request(.sell, "5", price: nil, type: .market), purpose: .flatten, limits: Self.limits, context: context) == nil)
        #expect(PreTradeCheck.evaluate(try Self.request(.sell, "5.1", price: nil, type: .market), purpose: .flatten, limits: Self.limits, context: context)?.code == .wouldShort)
        #expect(PreTradeCheck.evaluate(try Self.request(.buy, "1", price: nil, type: .market), purpose: .flatten, limits: Self.limits, context: context)?.code == .wouldShort)
    }

    @Test("a size whose notional overflows is refused, not a trap")
    func hostileSize() throws {
        let request = try Self.request(.buy, "99999999999999999999999999", price: "99999999999999999999")
        #expect(PreTradeCheck.evaluate(request, limits: Self.limits, context: try Self.context())?.code == .orderTooLarge)
    }
}
