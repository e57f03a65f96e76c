public import GordonDomain
public import GordonKernel

/// A NATS subject Gordon publishes on (DESIGN §4), one case per subject family.
///
/// The associated values are validated types whose every value is a legal subject token
/// (`Symbol` is `A-Z0-9`, `BotId` is `a-z0-9_-`, names are `a-z0-9_`), so `string` can
/// never produce a subject with an empty token, a wildcard or a stray `.`.
public enum Subject: Sendable, Hashable, CustomStringConvertible {
    /// `gordon.market.kline.<SYMBOL>.<interval>`; the interval token is case-sensitive
    /// (`1m` is a minute, `1M` a month).
    case kline(Symbol, Interval)
    /// `gordon.market.metric.<name>`
    case metric(MetricName)
    /// `gordon.intent.<bot>`
    case intent(BotId)
    /// `gordon.exec.order.<bot>`
    case orderUpdate(BotId)
    /// `gordon.exec.fill.<bot>`
    case fill(BotId)
    /// `gordon.risk.command.<target>`, target `all` or a bot id.
    case riskCommand(RiskTarget)
    /// `gordon.risk.breaker.<name>`
    case breaker(BreakerName)
    /// `gordon.bot.lifecycle.<bot>`
    case botLifecycle(BotId)
    /// `gordon.exec.reconciliation`: the executor's findings against the exchange.
    case reconciliation

    /// The first token of every Gordon subject, and the stream's subject space `gordon.>`.
    public static let rootToken = "gordon"

    public var string: String {
        switch self {
        case .kline(let symbol, let interval): "gordon.market.kline.\(symbol.rawValue).\(interval.rawValue)"
        case .metric(let name): "gordon.market.metric.\(name.rawValue)"
        case .intent(let bot): "gordon.intent.\(bot.rawValue)"
        case .orderUpdate(let bot): "gordon.exec.order.\(bot.rawValue)"
        case .fill(let bot): "gordon.exec.fill.\(bot.rawValue)"
        case .riskCommand(let target): "gordon.risk.command.\(target.token)"
        case .breaker(let name): "gordon.risk.breaker.\(name.rawValue)"
        case .botLifecycle(let bot): "gordon.bot.lifecycle.\(bot.rawValue)"
        case .reconciliation: "gordon.exec.reconciliation"
        }
    }

    public var description: String { string }

    /// Parses a concrete subject. Anything that is not exactly one of the families above,
    /// with valid values, is `invalidSubject` whose `token` context names the offending
    /// token (empty, a wildcard, whitespace or a control character, non-ASCII, an unknown
    /// family word, or a value its type refuses, such as a lower-case symbol).
    public init(parsing text: some StringProtocol) throws(GordonError) {
        let subject = String(text)
        let tokens = try SubjectToken.split(subject)
        for token in tokens {
            try SubjectToken.check(token, in: subject)
        }
        let family = try SubjectFamily.matching(tokens, subject: subject)
        for (segment, token) in zip(family.segments, tokens) {
            try segment.check(token, subject: subject)
        }
        // Every variable token passed its segment's check above, so the parses below succeed.
        func bot(_ index: Int) throws(GordonError) -> BotId { try BotId(tokens[index]) }
        switch family {
        case .kline: self = .kline(try Symbol(tokens[3]), try Interval(parsing: tokens[4]))
        case .metric: self = .metric(try MetricName(tokens[3]))
        case .intent: self = .intent(try bot(2))
        case .orderUpdate: self = .orderUpdate(try bot(3))
        case .fill: self = .fill(try bot(3))
        case .riskCommand: self = .riskCommand(try RiskTarget(parsing: tokens[3]))
        case .breaker: self = .breaker(try BreakerName(tokens[3]))
        case .botLifecycle: self = .botLifecycle(try bot(3))
        case .reconciliation: self = .reconciliation
        }
    }
}

/// The shape of each subject family: fixed words and typed value positions. Shared by the
/// subject parser and by filter validation, so the two can never disagree.
enum SubjectFamily: CaseIterable {
    case kline, metric, intent, orderUpdate, fill, riskCommand, breaker, botLifecycle, reconciliation

    enum Segment: Equatable {
        case word(String)
        case symbol, interval, metricName, botId, riskTarget, breakerName

        /// Checks `token` against this position, as `invalidSubject` naming the token.
        func check(_ token: Substring, subject: String) throws(GordonError) {
            if case .word(let word) = self {
                guard token == word else { throw SubjectToken.error("expected '\(word)'", token: token, subject: subject) }
                return
            }
            do throws(GordonError) {
                switch self {
                case .word: break
                case .symbol: _ = try Symbol(token)
                case .interval: _ = try Interval(parsing: token)
                case .metricName: _ = try MetricName(token)
                case .botId: _ = try BotId(token)
                case .riskTarget: _ = try RiskTarget(parsing: token)
                case .breakerName: _ = try BreakerName(token)
                }
            } catch {
                throw SubjectToken.error("not a valid \(name): \(error.message)", token: token, subject: subject, underlying: error)
            }
        }

        var name: String {
            switch self {
            case .word(let word): word
            case .symbol: "symbol"
            case .interval: "interval"
            case .metricName: "metric name"
            case .botId: "bot id"
            case .riskTarget: "risk target"
            case .breakerName: "breaker name"
            }
        }
    }

    var segments: [Segment] {
        switch self {
        case .kline: [.word("gordon"), .word("market"), .word("kline"), .symbol, .interval]
        case .metric: [.word("gordon"), .word("market"), .word("metric"), .metricName]
        case .intent: [.word("gordon"), .word("intent"), .botId]
        case .orderUpdate: [.word("gordon"), .word("exec"), .word("order"), .botId]
        case .fill: [.word("gordon"), .word("exec"), .word("fill"), .botId]
        case .riskCommand: [.word("gordon"), .word("risk"), .word("command"), .riskTarget]
        case .breaker: [.word("gordon"), .word("risk"), .word("breaker"), .breakerName]
        case .botLifecycle: [.word("gordon"), .word("bot"), .word("lifecycle"), .botId]
        case .reconciliation: [.word("gordon"), .word("exec"), .word("reconciliation")]
        }
    }

    /// The family whose fixed words `tokens` spell, checking words only; the first token
    /// that fits no family is the one named in the error.
    static func matching(_ tokens: [Substring], subject: String) throws(GordonError) -> SubjectFamily {
        var candidates = allCases
        for (index, token) in tokens.enumerated() {
            let remaining = candidates.filter { family in
                guard index < family.segments.count else { return false }
                if case .word(let word) = family.segments[index] { return token == word }
                return true
            }
            guard !remaining.isEmpty else {
                let message = index == 0 ? "Gordon subjects start with 'gordon'" : "no Gordon subject has this token here"
                throw SubjectToken.error(message, token: token, subject: subject)
            }
            candidates = remaining
        }
        guard let family = candidates.first(where: { $0.segments.count == tokens.count }) else {
            throw SubjectToken.error("subject ends too early", token: tokens[tokens.count - 1], subject: subject)
        }
        return family
    }
}
