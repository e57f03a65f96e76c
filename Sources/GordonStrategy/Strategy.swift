public import GordonKernel

/// What a strategy wants after a bar closes. Long-only spot: `enterLong` opens a position
/// when flat, `exit` closes it when long; each is ignored in the other state.
public enum Signal: Sendable, Hashable {
    case hold
    /// `reason` names the rule that fired, for the trade list and the bot's log.
    case enterLong(reason: String)
    case exit(reason: String)

    public var isEntry: Bool { if case .enterLong = self { true } else { false } }
    public var isExit: Bool { if case .exit = self { true } else { false } }

    /// The signal a long-only account acts on: an entry while a position is open, or an exit
    /// while flat, is `hold`. The backtester and the live bot both gate through this.
    public func acted(whenOpen isOpen: Bool) -> Signal {
        if isEntry && isOpen || isExit && !isOpen { return .hold }
        return self
    }
}

/// An entry strategy: sees one closed kline at a time and keeps O(1) state per indicator.
///
/// Pure: no I/O, no clock, no randomness, so live and backtest runs of the same bars give
/// the same signals.
public protocol Strategy: Sendable {
    /// The strategy's name in the catalogue, e.g. `ema_crossover`.
    var name: String { get }
    /// Closed bars needed before the strategy can say anything but `hold`.
    var warmUp: Int { get }
    /// Called once per closed bar, in order.
    mutating func next(_ context: MarketContext) -> Signal
}

/// One tunable number of a strategy or overlay, with its documented default and range.
public struct ParameterSpec: Sendable, Hashable {
    public let name: String
    public let defaultValue: Double
    public let range: ClosedRange<Double>
    public let isInteger: Bool
    public let summary: String

    public init(_ name: String, default defaultValue: Double, range: ClosedRange<Double>, integer: Bool = false,
                _ summary: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.range = range
        self.isInteger = integer
        self.summary = summary
    }
}

/// Parameters after validation: every spec has a value (given or default) within range.
public struct StrategyParameters: Sendable, Hashable {
    public let owner: String
    public let values: [String: Double]

    /// Checks `given` against `specs`: unknown names, values out of range and fractions
    /// for integer parameters are each a clear `invalidStrategyParameter`.
    public init(owner: String, specs: [ParameterSpec], given: [String: Double]) throws(GordonError) {
        let known = Set(specs.map(\.name))
        for name in given.keys.sorted() where !known.contains(name) {
            let list = specs.map(\.name).joined(separator: ", ")
            throw GordonError(.invalidStrategyParameter,
                              "unknown parameter '\(name)' for \(owner); known: \(list.isEmpty ? "none" : list)")
        }
        var values: [String: Double] = [:]
        for spec in specs {
            let value = given[spec.name] ?? spec.defaultValue
            guard value.isFinite, spec.range.contains(value) else {
                throw GordonError(.invalidStrategyParameter,
                                  "\(owner) parameter '\(spec.name)' = \(value) is outside \(spec.range.lowerBound)...\(spec.range.upperBound)")
            }
            guard !spec.isInteger || value == value.rounded() else {
                throw GordonError(.invalidStrategyParameter, "\(owner) parameter '\(spec.name)' = \(value) must be a whole number")
            }
            values[spec.name] = value
        }
        self.owner = owner
        self.values = values
    }

    public func double(_ name: String) -> Double {
        guard let value = values[name] else { preconditionFailure("\(owner) has no parameter \(name)") }
        return value
    }

    public func int(_ name: String) -> Int { Int(double(name)) }

    /// For rules across parameters, such as `fast < slow`.
    public func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(GordonError) {
        guard condition else { throw GordonError(.invalidStrategyParameter, "\(owner): \(message())") }
    }
}

/// A strategy as the catalogue lists it.
public typealias StrategyDescriptor = RuleDescriptor<any Strategy>

/// A strategy by name and parameters, as bot configs and `gordonctl backtest` give it:
/// `{"name": "ema_crossover", "parameters": {"fast": 12, "slow": 26}}`.
public struct StrategyConfig: Sendable, Hashable, Codable {
    public var name: String
    public var parameters: [String: Double]

    public init(name: String, parameters: [String: Double] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        parameters = try container.decodeIfPresent([String: Double].self, forKey: .parameters) ?? [:]
    }
}

/// A named rule built from validated parameters: the catalogue entry of every strategy,
/// overlay and sizing rule.
public struct RuleDescriptor<Rule: Sendable>: Sendable {
    public let name: String
    public let summary: String
    public let parameters: [ParameterSpec]
    private let build: @Sendable (StrategyParameters) throws(GordonError) -> Rule

    public init(name: String, summary: String, parameters: [ParameterSpec],
                build: @escaping @Sendable (StrategyParameters) throws(GordonError) -> Rule) {
        self.name = name
        self.summary = summary
        self.parameters = parameters
        self.build = build
    }

    /// The rule with `given` parameters over the defaults, validated.
    public func make(_ given: [String: Double] = [:]) throws(GordonError) -> Rule {
        try build(StrategyParameters(owner: name, specs: parameters, given: given))
    }

    /// The rule `config` names from `catalog`, or a one-line error naming the known ones.
    static func make(_ config: StrategyConfig, from catalog: [RuleDescriptor<Rule>], kind: String) throws(GordonError) -> Rule {
        guard let descriptor = catalog.first(where: { $0.name == config.name }) else {
            throw GordonError(.unknownStrategy, "unknown \(kind) '\(config.name)'; known: " + catalog.map(\.name).joined(separator: ", "))
        }
        return try descriptor.make(config.parameters)
    }
}
