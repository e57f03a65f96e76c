import GordonDomain
import GordonKernel
import GordonProtocol
import Testing

@Suite struct OrderIntentTests {
    func intent(
        _ type: OrderType, tif: TimeInForce? = nil, price: String? = nil, stop: String? = nil,
        quantity: String? = nil, quote: String? = nil, reason: String = "signal"
    ) throws(GordonError) -> OrderIntentEvent {
        try OrderIntentEvent(intentId: ClientOrderId("ema-cross-1-000001"), botId: BotId("ema-cross-1"), symbol: Symbol("BTCUSDT"),
                             side: .buy, orderType: type, timeInForce: tif, price: price.map { p throws(GordonError) in try Price(parsing: p) },
                             stopPrice: stop.map { p throws(GordonError) in try Price(parsing: p) },
                             quantity: quantity.map { q throws(GordonError) in try Quantity(parsing: q) },
                             quoteOrderQuantity: quote.map { q throws(GordonError) in try Quantity(parsing: q) },
                             reason: reason, createdAt: Timestamp(milliseconds: 1))
    }

    @Test func validCombinations() throws {
        #expect(try intent(.limit, tif: .gtc, price: "96500", quantity: "0.001").orderRequest != nil)
        #expect(try intent(.market, quantity: "0.001").orderRequest?.quantity == (try qty("0.001")))
        #expect(try intent(.market, quote: "100").orderRequest == nil)
        #expect(try intent(.limitMaker, price: "96500", quantity: "0.001").orderType == .limitMaker)
        #expect(try intent(.stopLossLimit, tif: .gtc, price: "90000", stop: "90500", quantity: "0.001").stopPrice == (try price("90500")))
    }

    /// (why it is wrong, the code expected)
    @Test func invalidCombinationsAreRefused() {
        let cases: [(String, ErrorCode?, () throws(GordonError) -> OrderIntentEvent)] = [
            ("LIMIT without price", .invalidOrder, { () throws(GordonError) in try intent(.limit, tif: .gtc, quantity: "1") }),
            ("LIMIT without time in force", .invalidOrder, { () throws(GordonError) in try intent(.limit, price: "1", quantity: "1") }),
            ("LIMIT with zero price", .invalidOrder, { () throws(GordonError) in try intent(.limit, tif: .gtc, price: "0", quantity: "1") }),
            ("MARKET with price", .invalidOrder, { () throws(GordonError) in try intent(.market, price: "1", quantity: "1") }),
            ("MARKET with time in force", .invalidOrder, { () throws(GordonError) in try intent(.market, tif: .ioc, quantity: "1") }),
            ("STOP_LOSS without stop price", .invalidOrder, { () throws(GordonError) in try intent(.stopLoss, quantity: "1") }),
            ("zero quantity", .invalidOrder, { () throws(GordonError) in try intent(.market, quantity: "0") }),
            ("MARKET with both sizes", .invalidEventPayload, { () throws(GordonError) in try intent(.market, quantity: "1", quote: "100") }),
            ("MARKET with no size", .invalidEventPayload, { () throws(GordonError) in try intent(.market) }),
            ("LIMIT sized by quote", .invalidEventPayload, { () throws(GordonError) in try intent(.limit, tif: .gtc, price: "1", quote: "100") }),
            ("quote-sized MARKET with price", .invalidEventPayload, { () throws(GordonError) in try intent(.market, price: "1", quote: "100") }),
            ("zero quote size", .invalidEventPayload, { () throws(GordonError) in try intent(.market, quote: "0") }),
            ("empty reason", .invalidEventPayload, { () throws(GordonError) in try intent(.market, quantity: "1", reason: "") }),
            ("reason with newline", .invalidEventPayload, { () throws(GordonError) in try intent(.market, quantity: "1", reason: "a\nb") }),
            ("reason too long", .invalidEventPayload,
             { () throws(GordonError) in try intent(.market, quantity: "1", reason: String(repeating: "x", count: 257)) }),
        ]
        for (why, code, make) in cases {
            #expect(thrownError(make)?.code == code, "\(why)")
        }
    }

    @Test func buildsFromAndIntoADomainRequest() throws {
        let request = try OrderRequest(clientOrderId: ClientOrderId("abc-1"), botId: BotId("b1"), symbol: Symbol("ETHUSDT"),
                                       side: .sell, type: .limit, timeInForce: .ioc, price: price("3000.5"), quantity: qty("0.25"))
        let event = try OrderIntentEvent(request: request, reason: "take profit", createdAt: ts(5))
        #expect(event.intentId == request.clientOrderId)
        #expect(event.orderRequest == request)
        #expect(event.subject == .intent(try BotId("b1")))
    }
}

@Suite struct RiskCommandTests {
    let at = Timestamp(milliseconds: 1)

    @Test func botCommandsNeedABot() throws {
        let bot = try RiskTarget.bot(BotId("ema-cross-1"))
        for command in RiskCommand.allCases {
            let toAll = thrownError { () throws(GordonError) in
                try RiskCommandEvent(command: command, target: .all, reason: "r", issuedBy: .operatorNamed("alice"), issuedAt: at)
            }
            #expect((toAll?.code == .invalidEventPayload) == command.requiresBotTarget, "\(command)")
            let toBot = try RiskCommandEvent(command: command, target: bot, reason: "r", issuedBy: .operatorNamed("alice"), issuedAt: at)
            #expect(toBot.subject == .riskCommand(bot))
        }
        #expect(RiskCommand.pauseBot.requiresBotTarget && RiskCommand.resumeBot.requiresBotTarget)
        #expect(!RiskCommand.halt.requiresBotTarget && !RiskCommand.flatten.requiresBotTarget)
    }

    @Test func issuerWireForm() throws {
        #expect(try RiskIssuer(parsing: "breaker:drawdown") == .breaker(.drawdown))
        #expect(try RiskIssuer(parsing: "alice") == .operatorNamed("alice"))
        #expect(try RiskIssuer(parsing: "ops.bob@srv-core") == .operatorNamed("ops.bob@srv-core"))
        #expect(RiskIssuer.breaker(.orderRate).string == "breaker:order_rate")
        for bad in ["", "breaker:", "breaker:Draw", "alice:x", " alice", "alice\n", "-alice", String(repeating: "a", count: 65), "\u{00E9}ric"] {
            #expect(thrownError { () throws(GordonError) in try RiskIssuer(parsing: bad) }?.code == .invalidEventPayload, "\(bad)")
        }
        let built = thrownError { () throws(GordonError) in
            try RiskCommandEvent(command: .halt, target: .all, reason: "r", issuedBy: .operatorNamed("breaker:drawdown"), issuedAt: at)
        }
        #expect(built?.code == .invalidEventPayload)
    }

    @Test func allOnTheWireAlwaysMeansEveryBot() throws {
        let bytes = try edited("risk_command.json", replacing: "\"command\":\"halt\"", with: "\"command\":\"flatten\"")
        let decoded = try Fixtures.codec.decode(RiskCommandEvent.self, from: bytes)
        #expect(decoded.payload.target.isAll)
        #expect(decoded.payload.target.botId == nil)
    }
}

@Suite struct OrderUpdateTests {
    func update(_ status: OrderStatus, executed: String, quote: String, quantity: String = "1") throws(GordonError) -> OrderUpdateEvent {
        try OrderUpdateEvent(clientOrderId: ClientOrderId("c1"), exchangeOrderId: 7, botId: BotId("b1"), symbol: Symbol("BTCUSDT"),
                             side: .buy, orderType: .market, status: status, quantity: Quantity(parsing: quantity),
                             executedQuantity: Quantity(parsing: executed), cumulativeQuoteQuantity: ExactDecimal(parsing: quote),
                             updatedAt: Timestamp(milliseconds: 2))
    }

    @Test func executionInvariants() {
        #expect(thrownError { () throws(GordonError) in try update(.filled, executed: "1", quote: "100") } == nil)
        #expect(thrownError { () throws(GordonError) in try update(.partiallyFilled, executed: "0.5", quote: "50") } == nil)
        #expect(thrownError { () throws(GordonError) in try update(.canceled, executed: "0", quote: "0") } == nil)
        let refused: [(String, () throws(GordonError) -> OrderUpdateEvent)] = [
            ("FILLED short", { () throws(GordonError) in try update(.filled, executed: "0.5", quote: "50") }),
            ("CANCELED fully executed", { () throws(GordonError) in try update(.canceled, executed: "1", quote: "100") }),
            ("NEW with execution", { () throws(GordonError) in try update(.new, executed: "0.5", quote: "50") }),
            ("PARTIALLY_FILLED with nothing", { () throws(GordonError) in try update(.partiallyFilled, executed: "0", quote: "0") }),
            ("over-executed", { () throws(GordonError) in try update(.partiallyFilled, executed: "2", quote: "50") }),
            ("quote without execution", { () throws(GordonError) in try update(.canceled, executed: "0", quote: "5") }),
            ("negative quote", { () throws(GordonError) in try update(.partiallyFilled, executed: "0.5", quote: "-5") }),
            ("zero quantity", { () throws(GordonError) in try update(.new, executed: "0", quote: "0", quantity: "0") }),
        ]
        for (why, make) in refused {
            #expect(thrownError(make)?.code == .invalidEventPayload, "\(why)")
        }
    }

    @Test func buildsFromADomainOrder() throws {
        var order = Order(accepting: try OrderRequest(clientOrderId: ClientOrderId("c9"), botId: BotId("b1"), symbol: Symbol("BTCUSDT"),
                                                      side: .buy, type: .limit, timeInForce: .gtc, price: price("100"), quantity: qty("2")),
                          at: ts(10))
        try order.apply(status: .partiallyFilled, executedQuantity: qty("1"), cumulativeQuote: dec("100"), at: ts(20), exchangeOrderId: 55)
        let event = try OrderUpdateEvent(order: order)
        #expect(event.status == .partiallyFilled)
        #expect(event.exchangeOrderId == 55)
        #expect(event.executedQuantity == (try qty("1")))
        #expect(event.updatedAt == ts(20))
        #expect(event.price == (try price("100")))
        #expect(event.subject == .orderUpdate(try BotId("b1")))
    }
}

@Suite struct OtherPayloadTests {
    @Test func metricRules() throws {
        let name = try MetricName("dvol_btc")
        #expect(try MetricEvent(name: name, value: dec("-0.5"), observedAt: ts(1), source: "deribit").subject == .metric(name))
        #expect(thrownError { () throws(GordonError) in try MetricEvent(name: name, value: 1, observedAt: ts(1), source: "deri bit") }?.code
            == .invalidEventPayload)
        #expect(thrownError { () throws(GordonError) in try MetricEvent(name: name, value: 1, observedAt: ts(1), source: "") }?.code
            == .invalidEventPayload)
        #expect(thrownError { () throws(GordonError) in
            try MetricEvent(name: name, value: 1, observedAt: ts(1), source: "deribit", unit: "a\u{0}")
        }?.code == .invalidEventPayload)
    }

    @Test func lifecycleRules() throws {
        let bot = try BotId("b1")
        for state in BotLifecycleState.allCases {
            #expect(try BotLifecycleEvent(botId: bot, state: state, instanceId: "host:1", at: ts(1)).subject == .botLifecycle(bot))
        }
        #expect(thrownError { () throws(GordonError) in try BotLifecycleEvent(botId: bot, state: .running, instanceId: "host 1", at: ts(1)) }?.code
            == .invalidEventPayload)
        #expect(thrownError { () throws(GordonError) in
            try BotLifecycleEvent(botId: bot, state: .failed, instanceId: "h", reason: "", at: ts(1))
        }?.code == .invalidEventPayload)
    }

    @Test func breakerRules() throws {
        let event = try BreakerEvent(breaker: .drawdown, state: .reset, value: dec("0.01"), threshold: dec("0.1"), reason: "ok", at: ts(1))
        #expect(event.subject == .breaker(.drawdown))
        #expect(thrownError { () throws(GordonError) in
            try BreakerEvent(breaker: .drawdown, state: .tripped, value: 1, threshold: 1, reason: "a\u{2028}b", at: ts(1))
        }?.code == .invalidEventPayload)
    }

    @Test func klineAndFillCarryTheirDomainValues() throws {
        let kline = try Fixtures.klineEvent().payload
        #expect(kline.kline == (try Fixtures.kline()))
        #expect(kline.subject == .kline(try Symbol("BTCUSDT"), .oneMinute))
        let fill = try Fixtures.fillEvent().payload
        #expect(fill.fill.tradeId == 3_141_592_653)
        #expect(fill.subject == .fill(try BotId("ema-cross-1")))
    }

    @Test func eventTypesAreDistinctAndStable() {
        let types = [KlineEvent.eventType, MetricEvent.eventType, OrderIntentEvent.eventType, OrderUpdateEvent.eventType,
                     FillEvent.eventType, RiskCommandEvent.eventType, BreakerEvent.eventType, BotLifecycleEvent.eventType,
                     ReconciliationEvent.eventType]
        #expect(types == ["kline", "metric", "order_intent", "order_update", "fill", "risk_command", "breaker", "bot_lifecycle",
                          "reconciliation"])
    }

    @Test func reconciliationRules() throws {
        let clean = try ReconciliationEvent(trigger: "start", orders: [], foreignOrders: [], balances: [], at: ts(1))
        #expect(clean.isClean && clean.subject == .reconciliation)
        #expect(!(try Fixtures.reconciliationEvent().payload.isClean))
        #expect(thrownError { () throws(GordonError) in
            try ReconciliationEvent(trigger: "a timer", orders: [], foreignOrders: [], balances: [], at: ts(1))
        }?.code == .invalidEventPayload)
        let shortfall = ReconciliationEvent.BalanceShortfall(asset: .btc, positions: try dec("1"), account: try dec("0"))
        #expect(thrownError { () throws(GordonError) in
            try ReconciliationEvent(trigger: "timer", orders: [], foreignOrders: [],
                                    balances: Array(repeating: shortfall, count: ReconciliationEvent.maxItems + 1), at: ts(1))
        }?.code == .invalidEventPayload)
        // A decoded event passes the same checks: an over-long trigger is refused.
        let bytes = try edited("reconciliation.json", replacing: "\"trigger\":\"timer\"", with: "\"trigger\":\"\(String(repeating: "t", count: 33))\"")
        #expect(thrownError { () throws(GordonError) in try Fixtures.codec.decode(ReconciliationEvent.self, from: bytes) }?.code == .malformedEvent)
    }

    @Test func protocolErrorCodesAreRegistered() {
        let codes: [ErrorCode] = [.invalidSubject, .malformedEvent, .unsupportedSchemaVersion, .unknownEventType,
                                  .eventTypeMismatch, .invalidEventId, .eventEncodingFailed, .invalidEventPayload]
        #expect(codes.allSatisfy { ErrorCode.all.contains($0) })
        #expect(Set(ErrorCode.all.map(\.rawValue)).count == ErrorCode.all.count)
        #expect(ErrorCode.invalidEventPayload.rawValue == "GORDON-PROTO-0008")
        #expect(ErrorCode.invalidEventPayload.defaultKind == .invalidInput)
    }

    @Test func envelopeBuiltWithAGeneratorTakesItsNextId() throws {
        let clock = ManualClock(1_732_492_800_000)
        let generator = EventIdGenerator(clock: clock.now, random: SplitMix64(seed: 9))
        let payload = try Fixtures.breakerEvent().payload
        let trace = try TraceId(parsing: "4bf92f3577b34da6a3ce929d0e0e4736")
        let first = EventEnvelope(payload: payload, source: .risk, traceId: trace, occurredAt: ts(1), ids: generator)
        let second = EventEnvelope(payload: payload, source: .risk, traceId: trace, occurredAt: ts(1), ids: generator)
        #expect(first.eventId < second.eventId)
        #expect(first.eventId.timestampMilliseconds == 1_732_492_800_000)
        #expect(first.schemaVersion == EventSchema.currentVersion)
        #expect(first.type == "breaker")
        #expect(first.subject == .breaker(.dailyLoss))
    }
}
