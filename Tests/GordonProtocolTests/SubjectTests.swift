import GordonDomain
import GordonKernel
import GordonProtocol
import Testing

@Suite struct SubjectTests {
    static func everyKind() throws(GordonError) -> [(Subject, String)] {
        let bot = try BotId("ema-cross-1")
        return [
            (.kline(try Symbol("BTCUSDT"), .oneMinute), "gordon.market.kline.BTCUSDT.1m"),
            (.kline(try Symbol("ETHBTC"), .oneMonth), "gordon.market.kline.ETHBTC.1M"),
            (.metric(.fearGreed), "gordon.market.metric.fear_greed"),
            (.metric(try MetricName("funding_rate_btcusdt")), "gordon.market.metric.funding_rate_btcusdt"),
            (.intent(bot), "gordon.intent.ema-cross-1"),
            (.orderUpdate(bot), "gordon.exec.order.ema-cross-1"),
            (.fill(bot), "gordon.exec.fill.ema-cross-1"),
            (.riskCommand(.all), "gordon.risk.command.all"),
            (.riskCommand(try .bot(bot)), "gordon.risk.command.ema-cross-1"),
            (.breaker(.dataStaleness), "gordon.risk.breaker.data_staleness"),
            (.botLifecycle(bot), "gordon.bot.lifecycle.ema-cross-1"),
            (.reconciliation, "gordon.exec.reconciliation"),
        ]
    }

    @Test func everyKindBuildsAndParsesBack() throws {
        for (subject, text) in try Self.everyKind() {
            #expect(subject.string == text)
            #expect(subject.description == text)
            #expect(try Subject(parsing: text) == subject)
        }
    }

    @Test func intervalTokensAreCaseSensitive() throws {
        let minute = try Subject(parsing: "gordon.market.kline.BTCUSDT.1m")
        let month = try Subject(parsing: "gordon.market.kline.BTCUSDT.1M")
        #expect(minute == .kline(try Symbol("BTCUSDT"), .oneMinute))
        #expect(month == .kline(try Symbol("BTCUSDT"), .oneMonth))
        #expect(minute != month)
        #expect(thrownError { () throws(GordonError) in try Subject(parsing: "gordon.market.kline.BTCUSDT.1H") }?.code == .invalidSubject)
    }

    @Test func everyIntervalRoundTrips() throws {
        for interval in Interval.allCases {
            let subject = Subject.kline(try Symbol("BNBUSDT"), interval)
            #expect(try Subject(parsing: subject.string) == subject)
        }
    }

    /// (subject, the token the error must name)
    @Test(arguments: [
        ("gordon..intent", ""),
        ("gordon.intent.", ""),
        (".gordon.intent.bot", ""),
        ("gordon.intent.*", "*"),
        ("gordon.intent.>", ">"),
        ("gordon.intent.bot*", "bot*"),
        ("gordon.exec.>", ">"),
        ("gordon.intent.bot 1", "bot 1"),
        ("gordon.intent.bot\t1", "bot\\u{9}1"),
        ("gordon.intent.bot\n", "bot\\u{a}"),
        ("gordon.intent.bot\u{7F}", "bot\\u{7f}"),
        ("gordon.intent.b\u{00F6}t", "b\u{00F6}t"),
        ("gordon.intent.bot\u{200B}", "bot\u{200B}"),
        ("nats.intent.bot", "nats"),
        ("GORDON.intent.bot", "GORDON"),
        ("gordon.intents.bot", "intents"),
        ("gordon.exec.orders.bot", "orders"),
        ("gordon.intent.a.b", "b"),
        ("gordon.market.kline.BTCUSDT", "BTCUSDT"),
        ("gordon.market.kline.btcusdt.1m", "btcusdt"),
        ("gordon.market.kline.BTCUSDT.2m", "2m"),
        ("gordon.market.metric.Fear", "Fear"),
        ("gordon.intent.Bot", "Bot"),
        ("gordon.risk.command.ALL", "ALL"),
        ("gordon.risk.breaker.daily-loss", "daily-loss"),
        ("gordon", "gordon"),
    ])
    func badSubjectIsRefusedNamingTheToken(subject: String, token: String) {
        let error = thrownError { () throws(GordonError) in try Subject(parsing: subject) }
        #expect(error?.code == .invalidSubject, "\(subject)")
        #expect(error?.context["token"] == token, "\(subject): \(String(describing: error))")
    }

    @Test func emptyAndOversizedSubjectsAreRefused() {
        #expect(thrownError { () throws(GordonError) in try Subject(parsing: "") }?.code == .invalidSubject)
        let long = "gordon.intent." + String(repeating: "a", count: 300)
        #expect(thrownError { () throws(GordonError) in try Subject(parsing: long) }?.code == .invalidSubject)
    }

    /// Names reach subjects only through validating constructors, so no built subject can
    /// carry a bad token.
    @Test(arguments: ["", "fear.greed", "fear greed", "*", ">", "fear_greed*", "Fear", "b\u{00F6}rse", "_lead", "tab\there",
                      String(repeating: "a", count: 65)])
    func badNamesAreRefusedNamingTheToken(name: String) {
        let metric = thrownError { () throws(GordonError) in try MetricName(name) }
        let breaker = thrownError { () throws(GordonError) in try BreakerName(name) }
        #expect(metric?.code == .invalidSubject)
        #expect(breaker?.code == .invalidSubject)
        #expect(metric?.context["token"] != nil)
    }

    @Test func knownNamesAreValid() throws {
        for name in [MetricName.fearGreed, .dvolBtc, .dvolEth] {
            #expect(try MetricName(name.rawValue) == name)
        }
        for name in [BreakerName.drawdown, .dailyLoss, .exposure, .orderRate, .dataStaleness] {
            #expect(try BreakerName(name.rawValue) == name)
        }
    }

    @Test func riskTargetReservesAll() throws {
        let error = thrownError { () throws(GordonError) in try RiskTarget.bot(try BotId("all")) }
        #expect(error?.code == .invalidSubject)
        #expect(error?.context["token"] == "all")
        #expect(try RiskTarget(parsing: "all") == .all)
        #expect(try RiskTarget(parsing: "all").isAll)
        let bot = try RiskTarget(parsing: "ema-cross-1")
        #expect(bot.botId == (try BotId("ema-cross-1")))
        #expect(bot.scope == .bot(try BotId("ema-cross-1")))
        #expect(!bot.isAll)
        #expect(thrownError { () throws(GordonError) in try RiskTarget(parsing: "All") }?.code == .invalidSubject)
        #expect(thrownError { () throws(GordonError) in try RiskTarget(parsing: "") }?.code == .invalidSubject)
    }
}

@Suite struct SubjectFilterTests {
    static let constants: [(Subject.Filter, String)] = [
        (.everything, "gordon.>"),
        (.market, "gordon.market.>"),
        (.klines, "gordon.market.kline.>"),
        (.metrics, "gordon.market.metric.*"),
        (.intents, "gordon.intent.*"),
        (.execution, "gordon.exec.>"),
        (.orderUpdates, "gordon.exec.order.*"),
        (.fills, "gordon.exec.fill.*"),
        (.risk, "gordon.risk.>"),
        (.riskCommands, "gordon.risk.command.*"),
        (.breakers, "gordon.risk.breaker.*"),
        (.botLifecycles, "gordon.bot.lifecycle.*"),
    ]

    @Test func everyConstantIsAValidFilter() throws {
        for (filter, text) in Self.constants {
            #expect(filter.string == text)
            #expect(try Subject.Filter(parsing: text) == filter)
        }
    }

    @Test func buildersProduceValidFilters() throws {
        let bot = try BotId("ema-cross-1")
        let built: [(Subject.Filter, String)] = [
            (.klines(symbol: try Symbol("BTCUSDT")), "gordon.market.kline.BTCUSDT.*"),
            (.klines(interval: .oneMonth), "gordon.market.kline.*.1M"),
            (.execution(for: bot), "gordon.exec.*.ema-cross-1"),
            (.exactly(.riskCommand(.all)), "gordon.risk.command.all"),
        ]
        for (filter, text) in built {
            #expect(filter.string == text)
            #expect(try Subject.Filter(parsing: text) == filter)
        }
    }

    @Test func matchingFollowsNATSWildcards() throws {
        let bot = try BotId("ema-cross-1")
        let other = try BotId("grid-2")
        let kline = Subject.kline(try Symbol("BTCUSDT"), .oneMinute)
        let metric = Subject.metric(.fearGreed)
        #expect(Subject.Filter.klines.matches(kline))
        #expect(!Subject.Filter.klines.matches(metric))
        #expect(Subject.Filter.market.matches(kline) && Subject.Filter.market.matches(metric))
        #expect(Subject.Filter.klines(symbol: try Symbol("BTCUSDT")).matches(kline))
        #expect(!Subject.Filter.klines(symbol: try Symbol("ETHUSDT")).matches(kline))
        #expect(Subject.Filter.klines(interval: .oneMinute).matches(kline))
        #expect(!Subject.Filter.klines(interval: .oneMonth).matches(kline))
        #expect(Subject.Filter.execution(for: bot).matches(.orderUpdate(bot)))
        #expect(Subject.Filter.execution(for: bot).matches(.fill(bot)))
        #expect(!Subject.Filter.execution(for: bot).matches(.fill(other)))
        #expect(!Subject.Filter.execution(for: bot).matches(.intent(bot)))
        #expect(Subject.Filter.intents.matches(.intent(other)))
        #expect(Subject.Filter.exactly(.riskCommand(.all)).matches(.riskCommand(.all)))
        #expect(!Subject.Filter.exactly(.riskCommand(.all)).matches(.riskCommand(try .bot(bot))))
        for (subject, _) in try SubjectTests.everyKind() {
            #expect(Subject.Filter.everything.matches(subject))
            // Each subject falls under exactly one family filter.
            let families: [Subject.Filter] = [.klines, .metrics, .intents, .orderUpdates, .fills, .riskCommands, .breakers, .botLifecycles,
                                                .reconciliations]
            #expect(families.filter { $0.matches(subject) }.count == 1, "\(subject)")
        }
    }

    /// (filter, the token the error must name)
    @Test(arguments: [
        ("gordon.>.intent", ">"),
        ("gordon.intents.*", "intents"),
        ("gordon.market.kline.btcusdt.*", "btcusdt"),
        ("gordon.market.kline.*.2m", "2m"),
        ("*.intent.*", "*"),
        ("gordon..*", ""),
        ("gordon.intent.bot 1", "bot 1"),
        ("gordon.intent.b*", "b*"),
        ("gordon.risk.command.ALL", "ALL"),
    ])
    func badFilterIsRefusedNamingTheToken(filter: String, token: String) {
        let error = thrownError { () throws(GordonError) in try Subject.Filter(parsing: filter) }
        #expect(error?.code == .invalidSubject, "\(filter)")
        #expect(error?.context["token"] == token, "\(filter): \(String(describing: error))")
    }

    @Test(arguments: ["gordon.*", "gordon.intent.*.*", "gordon.market.kline.*.*.*", "gordon.exec.*.*.*", "gordon.bot.*.*.*", "gordon.nothing.>"])
    func filterMatchingNoFamilyIsRefused(filter: String) {
        #expect(thrownError { () throws(GordonError) in try Subject.Filter(parsing: filter) }?.code == .invalidSubject)
    }

    @Test(arguments: ["gordon.>", "gordon.*.*", "gordon.*.*.*", "gordon.exec.*.*", "gordon.exec.*", "gordon.*.kline.>", "gordon.market.*.*"])
    func wildcardFiltersOverFamiliesAreValid(filter: String) throws {
        #expect(try Subject.Filter(parsing: filter).string == filter)
    }
}
