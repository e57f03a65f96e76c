import GordonDomain
import GordonKernel
import GordonProtocol
import GordonRisk
import Testing

/// Each breaker on a crafted sequence of inputs: it trips once when its measure crosses the
/// limit, asks for its actions, stays quiet while tripped and resets once back within it.
@Suite struct BreakersTests {
    static let start: Int64 = 1_780_000_000_000  // a UTC day's 13:46:40
    static func at(_ seconds: Int64) -> Timestamp { Timestamp(milliseconds: start + seconds * 1000) }
    static func dec(_ text: String) throws -> ExactDecimal { try ExactDecimal(parsing: text) }

    static func limits() -> RiskLimits {
        var limits = RiskLimits()
        limits.maxDrawdown = ExactDecimal(significand: 10, scale: 2)
        limits.maxDailyLoss = ExactDecimal(significand: 3, scale: 2)
        limits.maxGrossExposure = ExactDecimal(500)
        limits.maxRejectsPerMinute = 2
        limits.maxOrdersPerMinutePerBot = 3
        limits.maxSilenceMilliseconds = 120_000
        return limits
    }

    @Test func drawdownTripsOnceBelowThePeakAndAsksForHaltAndFlatten() throws {
        var limits = Self.limits()
        limits.maxDailyLoss = ExactDecimal(significand: 50, scale: 2)  // out of the way
        var breakers = Breakers(limits: limits)
        #expect(try breakers.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000"))).isEmpty)
        #expect(try breakers.evaluate(RiskSample(at: Self.at(1), equity: Self.dec("1200"))).isEmpty, "a new peak")
        // 1080 is exactly 10 % below 1200: at the limit, not beyond it.
        #expect(try breakers.evaluate(RiskSample(at: Self.at(2), equity: Self.dec("1080"))).isEmpty)
        let trip = try breakers.evaluate(RiskSample(at: Self.at(3), equity: Self.dec("1079.99")))
        #expect(trip.count == 1)
        #expect(trip.first?.breaker == .drawdown && trip.first?.state == .tripped)
        #expect(trip.first?.actions == [.halt, .flatten])
        #expect(trip.first?.value == (try Self.dec("0.100009")), "rounded up, never under-stated")
        #expect(trip.first?.threshold == (try Self.dec("0.1")))
        #expect(breakers.peakEquity == (try Self.dec("1200")))
        #expect(try breakers.evaluate(RiskSample(at: Self.at(4), equity: Self.dec("900"))).isEmpty, "told once")
        let reset = try breakers.evaluate(RiskSample(at: Self.at(5), equity: Self.dec("1100")))
        #expect(reset.map(\.state) == [.reset] && reset.first?.actions == [], "a reset asks for nothing")
        #expect(breakers.trippedBreakers.isEmpty)
    }

    @Test func aSeededPeakSurvivesARestart() throws {
        var breakers = Breakers(limits: Self.limits(), peakEquity: try Self.dec("2000"))
        let changes = try breakers.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1700")))
        #expect(changes.map(\.breaker) == [.drawdown], "15 % below the peak before the restart")
    }

    @Test func dailyLossCountsFromTheUTCDaysOpeningAndStartsOverAtMidnight() throws {
        var breakers = Breakers(limits: Self.limits())
        #expect(try breakers.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000"))).isEmpty)
        let trip = try breakers.evaluate(RiskSample(at: Self.at(60), equity: Self.dec("969")))
        #expect(trip.map(\.breaker) == [.dailyLoss])
        #expect(trip.first?.actions == [.halt, .flatten])
        #expect(trip.first?.value == (try Self.dec("0.031")))
        // The next UTC day opens at this equity: the loss is measured afresh.
        let secondsToMidnight = (86_400_000 - Self.start % 86_400_000) / 1000
        let nextDay = try breakers.evaluate(RiskSample(at: Self.at(secondsToMidnight), equity: Self.dec("969")))
        #expect(nextDay.map(\.state) == [.reset])
        #expect(breakers.day?.openingEquity == (try Self.dec("969")))
        #expect(try breakers.evaluate(RiskSample(at: Self.at(secondsToMidnight + 1), equity: Self.dec("950"))).isEmpty, "1.96 % today")
    }

    @Test func capitalMovedIsNoGainOrLoss() throws {
        // The day opened before any bot had an allocation: equity zero.
        var breakers = Breakers(limits: Self.limits())
        #expect(try breakers.evaluate(RiskSample(at: Self.at(0), equity: .zero)).isEmpty)
        try breakers.capitalMoved(Self.dec("1000"))
        #expect(breakers.day?.openingEquity == (try Self.dec("1000")))
        #expect(breakers.peakEquity == (try Self.dec("1000")))
        #expect(try breakers.evaluate(RiskSample(at: Self.at(1), equity: Self.dec("1000"))).isEmpty)
        // A loss of 4 % is a day's loss, counted from the capital that came in.
        #expect(try breakers.evaluate(RiskSample(at: Self.at(2), equity: Self.dec("960"))).map(\.breaker) == [.dailyLoss])

        // An allocation cut by half is no drawdown: 500 of 1000 left is not 50 % down.
        var cut = Breakers(limits: Self.limits())
        #expect(try cut.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000"))).isEmpty)
        try cut.capitalMoved(Self.dec("-500"))
        #expect(try cut.evaluate(RiskSample(at: Self.at(1), equity: Self.dec("500"))).isEmpty)
        #expect(try cut.evaluate(RiskSample(at: Self.at(2), equity: Self.dec("440"))).map(\.breaker) == [.drawdown, .dailyLoss],
                "12 % below the peak of what is left")
    }

    @Test func exposureAboveTheLimitHaltsAndResetsWhenBack() throws {
        var breakers = Breakers(limits: Self.limits())
        #expect(try breakers.evaluate(RiskSample(at: Self.at(0), equity: nil, grossExposure: Self.dec("500"))).isEmpty)
        let trip = try breakers.evaluate(RiskSample(at: Self.at(1), equity: nil, grossExposure: Self.dec("500.01")))
        #expect(trip.map(\.breaker) == [.exposure] && trip.first?.actions == [.halt])
        #expect(try breakers.evaluate(RiskSample(at: Self.at(2), equity: nil, grossExposure: .zero)).map(\.state) == [.reset])
    }

    @Test func rejectsWithinAMinuteHaltAndAgeOut() throws {
        var breakers = Breakers(limits: Self.limits())
        for second in [0, 10, 20] as [Int64] { breakers.orderRejected(at: Self.at(second)) }
        let trip = try breakers.evaluate(RiskSample(at: Self.at(30), equity: nil))
        #expect(trip.map(\.breaker) == [.orderRate] && trip.first?.actions == [.halt] && trip.first?.bot == nil)
        #expect(trip.first?.value == ExactDecimal(3))
        // A minute after the first, two remain: within the limit.
        #expect(try breakers.evaluate(RiskSample(at: Self.at(60), equity: nil)).map(\.state) == [.reset])
    }

    @Test func aBotSendingTooFastIsPausedAloneAndTheOtherIsNot() throws {
        var breakers = Breakers(limits: Self.limits())
        let (fast, calm) = (try BotId("fast-1"), try BotId("calm-1"))
        for second in [0, 5, 10, 15] as [Int64] { breakers.orderSent(by: fast, at: Self.at(second)) }
        breakers.orderSent(by: calm, at: Self.at(15))
        let trip = try breakers.evaluate(RiskSample(at: Self.at(16), equity: nil))
        #expect(trip.count == 1)
        #expect(trip.first?.breaker == .orderRate && trip.first?.bot == fast && trip.first?.actions == [.pause(fast)])
        #expect(try breakers.evaluate(RiskSample(at: Self.at(17), equity: nil)).isEmpty)
        let reset = try breakers.evaluate(RiskSample(at: Self.at(61), equity: nil))
        #expect(reset.map(\.state) == [.reset] && reset.first?.bot == fast)
    }

    @Test func aSilentSourceHaltsAndItsReturnResets() throws {
        var breakers = Breakers(limits: Self.limits())
        let heard = ["klines": Self.at(0), "executor": Self.at(100)]
        #expect(try breakers.evaluate(RiskSample(at: Self.at(120), equity: nil, lastHeard: heard)).isEmpty, "exactly at the bound")
        let trip = try breakers.evaluate(RiskSample(at: Self.at(121), equity: nil, lastHeard: heard))
        #expect(trip.map(\.breaker) == [.dataStaleness] && trip.first?.actions == [.halt])
        #expect(trip.first?.reason == "nothing from klines for 121 s")
        let back = try breakers.evaluate(RiskSample(at: Self.at(122), equity: nil, lastHeard: ["klines": Self.at(122), "executor": Self.at(100)]))
        #expect(back.map(\.state) == [.reset])
    }

    @Test func whatStandsTrippedOutlivesARestartAndIsNotTrippedAgain() throws {
        var breakers = Breakers(limits: Self.limits())
        let bot = try BotId("fast-1")
        _ = try breakers.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000")))
        for second in [1, 2, 3, 4] as [Int64] { breakers.orderSent(by: bot, at: Self.at(second)) }
        let trips = try breakers.evaluate(RiskSample(at: Self.at(5), equity: Self.dec("850"), lastHeard: ["klines": Self.at(-200)]))
        #expect(trips.map(\.key) == ["drawdown", "daily_loss", "order_rate/fast-1", "data_staleness/klines"])
        #expect(breakers.trippedKeys == ["daily_loss", "data_staleness/klines", "drawdown", "order_rate/fast-1"])

        // The next process starts from what was stored: nothing trips again. The bot's orders
        // before the restart are not known, so its rate reads zero and resets (the pause
        // itself stays until an operator resumes the bot).
        var restarted = Breakers(limits: Self.limits(), peakEquity: breakers.peakEquity, day: breakers.day, trippedKeys: breakers.trippedKeys)
        let first = try restarted.evaluate(RiskSample(at: Self.at(6), equity: Self.dec("850"), lastHeard: ["klines": Self.at(-200)]))
        #expect(first.map(\.key) == ["order_rate/fast-1"] && first.first?.state == .reset)
        let heard = try restarted.evaluate(RiskSample(at: Self.at(7), equity: Self.dec("850"), lastHeard: ["klines": Self.at(7)]))
        #expect(heard.map(\.key) == ["data_staleness/klines"] && heard.first?.state == .reset)
        #expect(restarted.trippedKeys == ["daily_loss", "drawdown"])
    }

    @Test func anOperatorsResumeCountsTheLossesAfreshFromThatEquity() throws {
        var breakers = Breakers(limits: Self.limits())
        _ = try breakers.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000")))
        #expect(try breakers.evaluate(RiskSample(at: Self.at(1), equity: Self.dec("880"))).map(\.breaker) == [.drawdown, .dailyLoss])
        let resets = breakers.operatorResumed(equity: try Self.dec("880"), at: Self.at(2))
        #expect(resets.map(\.breaker) == [.drawdown, .dailyLoss] && resets.allSatisfy { $0.state == .reset && $0.actions.isEmpty })
        let base = try Self.dec("880")
        #expect(breakers.peakEquity == base && breakers.day?.openingEquity == base)
        #expect(try breakers.evaluate(RiskSample(at: Self.at(3), equity: Self.dec("870"))).isEmpty, "1.1 % from the new base")
        // A further loss beyond the limit trips again.
        #expect(try breakers.evaluate(RiskSample(at: Self.at(4), equity: Self.dec("850"))).map(\.breaker) == [.dailyLoss])
        // Nothing tripped: a resume changes nothing.
        var calm = Breakers(limits: Self.limits())
        _ = try calm.evaluate(RiskSample(at: Self.at(0), equity: Self.dec("1000")))
        #expect(calm.operatorResumed(equity: try Self.dec("990"), at: Self.at(1)).isEmpty)
        #expect(calm.peakEquity == (try Self.dec("1000")))
    }

    @Test func limitsOutOfRangeAreRefusedByName() {
        var limits = RiskLimits()
        #expect(throws: Never.self) { try limits.validated() }
        limits.maxDrawdown = .one
        #expect(thrownError { () throws(GordonError) in try limits.validated() }?.context["limit"] == "max_drawdown")
        limits = RiskLimits()
        limits.maxOrdersPerMinutePerBot = 0
        #expect(thrownError { () throws(GordonError) in try limits.validated() }?.context["limit"] == "max_orders_per_minute_per_bot")
    }
}

func thrownError(_ body: () throws(GordonError) -> Void) -> GordonError? {
    do { try body() } catch { return error }
    return nil
}

func thrownError<T>(_ body: () throws(GordonError) -> T) -> GordonError? {
    do { _ = try body() } catch { return error }
    return nil
}
