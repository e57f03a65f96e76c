public import GordonKernel

/// What a bot wants its process to do; the manager and the risk service write it, the
/// bot obeys it.
public enum DesiredState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case running
    case paused
    case stopped

    public var description: String { rawValue }
}

/// A bot's configuration as the manager stores it in `bot_configs`.
public struct BotConfig: Sendable, Hashable {
    public let botId: BotId
    /// The strategy's registered name, e.g. `ema_cross`.
    public let strategy: String
    /// Strategy parameters as text; each strategy parses and validates its own.
    public let parameters: [String: String]
    public let symbols: [Symbol]
    public let interval: Interval
    public private(set) var desiredState: DesiredState
    /// The most quote asset the bot may have committed at once; nil leaves the limit to risk.
    public let maxQuoteExposure: ExactDecimal?

    /// Validates (`invalidBotConfig`): the strategy name and parameter names are 1–64
    /// characters of `A-Za-z0-9_.-` starting with a letter or digit (they end up in logs,
    /// metrics labels and SQL), parameter values are at most 1024 bytes without control
    /// characters, at least one symbol and none twice, and a positive exposure limit.
    public init(
        botId: BotId, strategy: String, parameters: [String: String] = [:], symbols: [Symbol],
        interval: Interval, desiredState: DesiredState, maxQuoteExposure: ExactDecimal? = nil
    ) throws(GordonError) {
        func invalid(_ message: String, _ context: [String: String] = [:]) -> GordonError {
            GordonError(.invalidBotConfig, message, context: context.merging(["botId": botId.rawValue]) { current, _ in current })
        }
        guard BotConfig.isName(strategy) else {
            throw invalid("strategy name must be 1-64 characters A-Za-z0-9_.- starting with a letter or digit",
                          ["strategy": String(strategy.prefix(80))])
        }
        for (name, value) in parameters {
            guard BotConfig.isName(name) else {
                throw invalid("parameter name must be 1-64 characters A-Za-z0-9_.- starting with a letter or digit",
                              ["parameter": String(name.prefix(80))])
            }
            guard value.utf8.count <= 1024, !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw invalid("parameter value must be at most 1024 bytes without control characters", ["parameter": name])
            }
        }
        guard !symbols.isEmpty else { throw invalid("a bot needs at least one symbol") }
        guard Set(symbols).count == symbols.count else {
            throw invalid("a symbol is listed twice", ["symbols": symbols.map(\.rawValue).joined(separator: ",")])
        }
        if let maxQuoteExposure, !maxQuoteExposure.isPositive {
            throw invalid("max quote exposure must be positive", ["maxQuoteExposure": maxQuoteExposure.description])
        }
        self.botId = botId
        self.strategy = strategy
        self.parameters = parameters
        self.symbols = symbols
        self.interval = interval
        self.desiredState = desiredState
        self.maxQuoteExposure = maxQuoteExposure
    }

    /// The same configuration with another desired state (pause, resume, stop).
    public func with(desiredState: DesiredState) -> BotConfig {
        var copy = self
        copy.desiredState = desiredState
        return copy
    }

    private static func isName(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count) else { return false }
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            isUppercaseAlphanumeric(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }
        return isAlphanumeric(bytes[0])
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}

extension BotConfig: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let strategy = try container.decode(String.self, forKey: .strategy)
        let parameters = try container.decodeIfPresent([String: String].self, forKey: .parameters) ?? [:]
        let symbols = try container.decode([Symbol].self, forKey: .symbols)
        let interval = try container.decode(Interval.self, forKey: .interval)
        let desiredState = try container.decode(DesiredState.self, forKey: .desiredState)
        let maxQuoteExposure = try container.decodeIfPresent(ExactDecimal.self, forKey: .maxQuoteExposure)
        self = try decoder.validated { () throws(GordonError) in
            try BotConfig(botId: botId, strategy: strategy, parameters: parameters, symbols: symbols,
                          interval: interval, desiredState: desiredState, maxQuoteExposure: maxQuoteExposure)
        }
    }
}
