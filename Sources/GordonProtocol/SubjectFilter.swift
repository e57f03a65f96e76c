public import GordonDomain
public import GordonKernel

extension Subject {
    /// A subscription filter over Gordon's subjects, with NATS wildcards: `*` matches one
    /// token, `>` (last only) one or more.
    ///
    /// Every filter is validated to lie inside `gordon.` and to match at least one subject
    /// family with values of the right type, so a typo (`gordon.intents.*`, a lower-case
    /// symbol) fails when the filter is made instead of silently receiving nothing.
    public struct Filter: Sendable, Hashable, CustomStringConvertible {
        public let string: String

        private init(trusted string: String) { self.string = string }

        /// Parses a filter; refusals are `invalidSubject` naming the offending token.
        public init(parsing text: some StringProtocol) throws(GordonError) {
            let filter = String(text)
            let tokens = try SubjectToken.split(filter)
            for (index, token) in tokens.enumerated() {
                switch token {
                case "*":
                    continue
                case ">":
                    guard index == tokens.count - 1 else {
                        throw SubjectToken.error("'>' must be the last token", token: token, subject: filter)
                    }
                default:
                    try SubjectToken.check(token, in: filter)
                }
            }
            guard tokens[0] == Subject.rootToken else {
                throw SubjectToken.error("Gordon filters start with 'gordon'", token: tokens[0], subject: filter)
            }
            var firstRefusal: GordonError?
            for family in SubjectFamily.allCases {
                do throws(GordonError) {
                    if try Filter.accepts(tokens, family: family, filter: filter) {
                        self.init(trusted: filter)
                        return
                    }
                } catch {
                    firstRefusal = firstRefusal ?? error
                }
            }
            throw firstRefusal ?? Filter.noFamily(tokens, filter: filter)
        }

        /// The error for a filter no family can match, naming the first token at which no
        /// family fits (or the last token when the filter's length is what fits none).
        private static func noFamily(_ tokens: [Substring], filter: String) -> GordonError {
            var candidates = SubjectFamily.allCases
            for (index, token) in tokens.enumerated() where token != "*" && token != ">" {
                candidates = candidates.filter { family in
                    guard index < family.segments.count else { return false }
                    if case .word(let word) = family.segments[index] { return token == word }
                    return true
                }
                if candidates.isEmpty {
                    return SubjectToken.error("filter matches no Gordon subject", token: token, subject: filter)
                }
            }
            return SubjectToken.error("filter matches no Gordon subject", token: tokens[tokens.count - 1], subject: filter)
        }

        /// Whether `tokens` can match some subject of `family`: false when the shapes
        /// differ, an error when a literal token sits where the family expects a word or a
        /// value and is not a valid one (the error names that token).
        private static func accepts(_ tokens: [Substring], family: SubjectFamily, filter: String) throws(GordonError) -> Bool {
            let segments = family.segments
            for (index, token) in tokens.enumerated() {
                if token == ">" { return segments.count > index }
                guard index < segments.count else { return false }
                if token == "*" { continue }
                if case .word(let word) = segments[index], token != word { return false }
                try segments[index].check(token, subject: filter)
            }
            return tokens.count == segments.count
        }

        /// NATS matching: literal tokens equal, `*` any one token, `>` one or more.
        public func matches(_ subject: Subject) -> Bool {
            let filterTokens = string.split(separator: ".", omittingEmptySubsequences: false)
            let subjectString = subject.string
            let subjectTokens = subjectString.split(separator: ".", omittingEmptySubsequences: false)
            for (index, token) in filterTokens.enumerated() {
                if token == ">" { return subjectTokens.count > index }
                guard index < subjectTokens.count else { return false }
                if token != "*", token != subjectTokens[index] { return false }
            }
            return filterTokens.count == subjectTokens.count
        }

        public var description: String { string }

        /// `gordon.>`: the whole stream.
        public static let everything = Filter(trusted: "gordon.>")
        /// `gordon.market.>`: klines and metrics.
        public static let market = Filter(trusted: "gordon.market.>")
        /// `gordon.market.kline.>`
        public static let klines = Filter(trusted: "gordon.market.kline.>")
        /// `gordon.market.metric.*`
        public static let metrics = Filter(trusted: "gordon.market.metric.*")
        /// `gordon.intent.*`
        public static let intents = Filter(trusted: "gordon.intent.*")
        /// `gordon.exec.>`: order updates and fills of every bot, and reconciliations.
        public static let execution = Filter(trusted: "gordon.exec.>")
        /// `gordon.exec.order.*`
        public static let orderUpdates = Filter(trusted: "gordon.exec.order.*")
        /// `gordon.exec.fill.*`
        public static let fills = Filter(trusted: "gordon.exec.fill.*")
        /// `gordon.risk.>`: commands and breakers.
        public static let risk = Filter(trusted: "gordon.risk.>")
        /// `gordon.risk.command.*`
        public static let riskCommands = Filter(trusted: "gordon.risk.command.*")
        /// `gordon.risk.breaker.*`
        public static let breakers = Filter(trusted: "gordon.risk.breaker.*")
        /// `gordon.bot.lifecycle.*`
        public static let botLifecycles = Filter(trusted: "gordon.bot.lifecycle.*")
        /// `gordon.exec.reconciliation`
        public static let reconciliations = Filter(trusted: "gordon.exec.reconciliation")

        /// `gordon.market.kline.<SYMBOL>.*`: every interval of one symbol.
        public static func klines(symbol: Symbol) -> Filter {
            Filter(trusted: "gordon.market.kline.\(symbol.rawValue).*")
        }

        /// `gordon.market.kline.*.<interval>`: one interval of every symbol.
        public static func klines(interval: Interval) -> Filter {
            Filter(trusted: "gordon.market.kline.*.\(interval.rawValue)")
        }

        /// `gordon.exec.*.<bot>`: one bot's order updates and fills.
        public static func execution(for bot: BotId) -> Filter {
            Filter(trusted: "gordon.exec.*.\(bot.rawValue)")
        }

        /// Exactly one subject (e.g. a bot listening to `gordon.risk.command.all` and to its
        /// own `gordon.risk.command.<bot>`).
        public static func exactly(_ subject: Subject) -> Filter {
            Filter(trusted: subject.string)
        }
    }
}
