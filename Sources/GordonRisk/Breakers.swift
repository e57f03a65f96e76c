public import GordonDomain
public import GordonKernel
public import GordonProtocol

/// The thresholds of gordon-risk's five circuit breakers. The defaults are the safe ones a
/// fresh install runs with.
public struct RiskLimits: Sendable, Equatable {
    /// Largest fall of equity from its peak, as a fraction of the peak (0.10 is 10 %).
    public var maxDrawdown: ExactDecimal = ExactDecimal(significand: 10, scale: 2)
    /// Largest loss since the UTC day began, realised and unrealised, as a fraction of the
    /// equity the day opened with.
    public var maxDailyLoss: ExactDecimal = ExactDecimal(significand: 3, scale: 2)
    /// Largest gross exposure (every position at its last price), in the quote asset.
    public var maxGrossExposure: ExactDecimal = ExactDecimal(1000)
    /// Orders the exchange refused in the last minute, every bot together.
    public var maxRejectsPerMinute = 5
    /// Orders one bot sent in the last minute.
    public var maxOrdersPerMinutePerBot = 6
    /// Longest silence of a watched source (the closed klines, the executor's events).
    public var maxSilenceMilliseconds: Int64 = 180_000

    public init() {}

    /// Each limit must be positive, and a fraction below one.
    public func validated() throws(GordonError) -> RiskLimits {
        func refuse(_ name: String, _ value: String) -> GordonError {
            GordonError(.serviceConfigInvalid, "risk limit \(name) is out of range", context: ["limit": name, "value": value])
        }
        for (name, fraction) in [("max_drawdown", maxDrawdown), ("max_daily_loss", maxDailyLoss)] where !(fraction.isPositive && fraction < .one) {
            throw refuse(name, fraction.description)
        }
        guard maxGrossExposure.isPositive else { throw refuse("max_gross_exposure", maxGrossExposure.description) }
        guard maxRejectsPerMinute > 0 else { throw refuse("max_rejects_per_minute", "\(maxRejectsPerMinute)") }
        guard maxOrdersPerMinutePerBot > 0 else { throw refuse("max_orders_per_minute_per_bot", "\(maxOrdersPerMinutePerBot)") }
        guard maxSilenceMilliseconds > 0 else { throw refuse("max_silence_ms", "\(maxSilenceMilliseconds)") }
        return self
    }
}

/// What a trip asks the shell to do.
public enum RiskAction: Sendable, Hashable {
    /// Close the halt latch: no new order but a flatten's.
    case halt
    /// Cancel every working order and sell every position.
    case flatten
    /// Set one bot's desired state to paused.
    case pause(BotId)
}

/// One breaker changing state, with the measurement that made it change.
public struct BreakerChange: Sendable, Equatable {
    public let breaker: BreakerName
    public let state: BreakerState
    /// Which of the breaker's instances: `breaker` or `breaker/detail` (a bot, a source), as
    /// in `Breakers.trippedKeys`.
    public let key: String
    /// The bot a per-bot breaker is about.
    public let bot: BotId?
    public let value: ExactDecimal
    public let threshold: ExactDecimal
    public let reason: String
    /// What to do; empty for a reset (only an operator reopens the halt latch).
    public let actions: [RiskAction]
}

/// The portfolio as the shell sees it at one instant.
public struct RiskSample: Sendable, Equatable {
    public var at: Timestamp
    /// Quote-asset equity: balances plus positions at their last prices. Nil until known.
    public var equity: ExactDecimal?
    /// Every position's size at its last price, in the quote asset.
    public var grossExposure: ExactDecimal
    /// When each watched source last spoke (the shell's start stands in for a source not
    /// heard from yet).
    public var lastHeard: [String: Timestamp]

    public init(at: Timestamp, equity: ExactDecimal?, grossExposure: ExactDecimal = .zero, lastHeard: [String: Timestamp] = [:]) {
        self.at = at
        self.equity = equity
        self.grossExposure = grossExposure
        self.lastHeard = lastHeard
    }
}

/// gordon-risk's five circuit breakers as one plain value: samples and order outcomes in,
/// state changes out. No clock and no I/O: time comes with the inputs, so a test replays any
/// sequence exactly.
///
/// - drawdown: equity below its peak by more than `maxDrawdown` → halt and flatten;
/// - daily_loss: equity below the UTC day's opening by more than `maxDailyLoss` → halt and flatten;
/// - exposure: gross exposure above `maxGrossExposure` → halt (no new entries);
/// - order_rate: more than `maxRejectsPerMinute` refusals → halt; a bot sending more than
///   `maxOrdersPerMinutePerBot` orders → that bot paused;
/// - data_staleness: a watched source silent longer than `maxSilenceMilliseconds` → halt.
///
/// A breaker reports each change once: tripped when its measure crosses the limit, reset
/// when it is back within it. A reset asks for nothing: the halt latch stays closed until an
/// operator opens it. When an operator does, the drawdown and the day's loss count afresh
/// from the equity of that moment (`operatorResumed`): the loss that tripped them is
/// accepted, and only a further one trips them again.
///
/// What stands tripped is kept (`trippedKeys`, stored by the shell), so a restart neither
/// forgets a trip nor repeats it.
public struct Breakers: Sendable {
    public private(set) var limits: RiskLimits
    /// The highest equity seen (seeded from the last run, so a restart does not forget a peak).
    public private(set) var peakEquity: ExactDecimal?
    /// The UTC day (days since the epoch) and the equity it opened with.
    public private(set) var day: (number: Int64, openingEquity: ExactDecimal)?
    private var rejects: [Int64] = []
    private var orders: [BotId: [Int64]] = [:]
    private var tripped: Set<Key> = []

    struct Key: Hashable {
        let breaker: BreakerName
        let detail: String

        var text: String { detail.isEmpty ? breaker.rawValue : "\(breaker.rawValue)/\(detail)" }
    }

    static let minute: Int64 = 60_000
    static let dayMilliseconds: Int64 = 86_400_000
    /// Fractions are compared at this many decimal places.
    static let fractionScale = 6

    public init(limits: RiskLimits, peakEquity: ExactDecimal? = nil, day: (number: Int64, openingEquity: ExactDecimal)? = nil,
                trippedKeys: [String] = []) {
        self.limits = limits
        self.peakEquity = peakEquity
        self.day = day
        for text in trippedKeys {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let name = parts.first, let breaker = try? BreakerName(name) else { continue }
            tripped.insert(Key(breaker: breaker, detail: parts.count > 1 ? String(parts[1]) : ""))
        }
    }

    /// The breakers standing tripped, as `breaker` or `breaker/detail` (a bot, a source),
    /// sorted: what `init(…trippedKeys:)` takes back after a restart.
    public var trippedKeys: [String] {
        tripped.map(\.text).sorted()
    }

    /// The operator opened the halt latch: a tripped drawdown or day's-loss breaker resets,
    /// and both count from `equity` from now on.
    public mutating func operatorResumed(equity: ExactDecimal?, at time: Timestamp) -> [BreakerChange] {
        guard let equity else { return [] }
        var changes: [BreakerChange] = []
        for (breaker, limit) in [(BreakerName.drawdown, limits.maxDrawdown), (.dailyLoss, limits.maxDailyLoss)]
        where tripped.remove(Key(breaker: breaker, detail: "")) != nil {
            changes.append(BreakerChange(breaker: breaker, state: .reset, key: breaker.rawValue, bot: nil, value: .zero, threshold: limit,
                                         reason: "the operator resumed trading: counted afresh from equity \(equity)", actions: []))
        }
        guard !changes.isEmpty else { return [] }
        peakEquity = equity
        day = (Self.utcDay(time.milliseconds), equity)
        return changes
    }

    /// Capital moved into or out of the bots' allocations (a bot created with one, or its
    /// allocation changed): no gain and no loss, so the peak and the day's opening move with
    /// it. Otherwise a day that opened before the first allocation (equity zero) would never
    /// count a loss, an allocation cut would read as a drawdown, and a raise would hide one.
    public mutating func capitalMoved(_ amount: ExactDecimal) throws(GordonError) {
        if let peak = peakEquity { peakEquity = try peak.adding(amount) }
        if let day { self.day = (day.number, try day.openingEquity.adding(amount)) }
    }

    /// New thresholds apply from the next evaluation.
    public mutating func update(_ limits: RiskLimits) { self.limits = limits }

    public var trippedBreakers: Set<BreakerName> { Set(tripped.map(\.breaker)) }

    /// The exchange accepted an order of `bot`.
    public mutating func orderSent(by bot: BotId, at time: Timestamp) {
        orders[bot, default: []].append(time.milliseconds)
    }

    /// The exchange (or the executor's checks) refused an order.
    public mutating func orderRejected(at time: Timestamp) {
        rejects.append(time.milliseconds)
    }

    /// Every breaker against `sample`; the changes since the last evaluation, in a fixed order.
    public mutating func evaluate(_ sample: RiskSample) throws(GordonError) -> [BreakerChange] {
        var changes: [BreakerChange] = []
        let now = sample.at.milliseconds
        if let equity = sample.equity {
            let peak = max(peakEquity ?? equity, equity)
            peakEquity = peak
            let today = Self.utcDay(now)
            if day?.number != today { day = (today, equity) }
            if peak.isPositive {
                let drawdown = try (peak - equity).divided(by: peak, scale: Self.fractionScale, rounding: .up)
                changes += check(.drawdown, value: drawdown, limit: limits.maxDrawdown, actions: [.halt, .flatten],
                                 reason: "equity \(equity) is \(Self.percent(drawdown)) below its peak \(peak)")
            }
            if let opening = day?.openingEquity, opening.isPositive {
                let loss = try (opening - equity).divided(by: opening, scale: Self.fractionScale, rounding: .up)
                changes += check(.dailyLoss, value: loss, limit: limits.maxDailyLoss, actions: [.halt, .flatten],
                                 reason: "equity \(equity) is \(Self.percent(loss)) below today's opening \(opening)")
            }
        }
        changes += check(.exposure, value: sample.grossExposure, limit: limits.maxGrossExposure, actions: [.halt],
                         reason: "gross exposure \(sample.grossExposure) against a limit of \(limits.maxGrossExposure)")

        rejects.removeAll { $0 <= now - Self.minute }
        changes += check(.orderRate, detail: "rejects", value: ExactDecimal(rejects.count), limit: ExactDecimal(limits.maxRejectsPerMinute),
                         actions: [.halt], reason: "\(rejects.count) orders refused in the last minute")
        // A bot tripped before a restart is judged too, so it can reset.
        let trippedBots = tripped.filter { $0.breaker == .orderRate && $0.detail != "rejects" }.compactMap { try? BotId($0.detail) }
        for bot in Set(orders.keys).union(trippedBots).sorted(by: { $0.rawValue < $1.rawValue }) {
            orders[bot, default: []].removeAll { $0 <= now - Self.minute }
            let count = orders[bot]!.count
            changes += check(.orderRate, detail: bot.rawValue, bot: bot, value: ExactDecimal(count),
                             limit: ExactDecimal(limits.maxOrdersPerMinutePerBot), actions: [.pause(bot)],
                             reason: "bot \(bot.rawValue) sent \(count) orders in the last minute")
            if count == 0 && !tripped.contains(Key(breaker: .orderRate, detail: bot.rawValue)) { orders[bot] = nil }
        }

        for source in sample.lastHeard.keys.sorted() {
            let silence = max(0, now - sample.lastHeard[source]!.milliseconds)
            changes += check(.dataStaleness, detail: source, value: ExactDecimal(significand: Int128(silence), scale: 3),
                             limit: ExactDecimal(significand: Int128(limits.maxSilenceMilliseconds), scale: 3), actions: [.halt],
                             reason: "nothing from \(source) for \(silence / 1000) s")
        }
        return changes
    }

    /// Trips when `value` exceeds `limit`, resets when it no longer does; a change only.
    private mutating func check(_ breaker: BreakerName, detail: String = "", bot: BotId? = nil, value: ExactDecimal, limit: ExactDecimal,
                                actions: [RiskAction], reason: String) -> [BreakerChange] {
        let key = Key(breaker: breaker, detail: detail)
        let over = limit < value
        switch (over, tripped.contains(key)) {
        case (true, false):
            tripped.insert(key)
            return [BreakerChange(breaker: breaker, state: .tripped, key: key.text, bot: bot, value: value, threshold: limit, reason: reason,
                                  actions: actions)]
        case (false, true):
            tripped.remove(key)
            return [BreakerChange(breaker: breaker, state: .reset, key: key.text, bot: bot, value: value, threshold: limit,
                                  reason: "back within the limit: " + reason, actions: [])]
        default:
            return []
        }
    }

    static func utcDay(_ milliseconds: Int64) -> Int64 {
        milliseconds >= 0 ? milliseconds / dayMilliseconds : (milliseconds + 1) / dayMilliseconds - 1
    }

    static func percent(_ fraction: ExactDecimal) -> String {
        ((try? (fraction * ExactDecimal(100)).rounded(scale: 2, rule: .halfEven))?.description ?? fraction.description) + " %"
    }
}
