public import GordonKernel

/// A moving average a crossover strategy can be built on.
public protocol MovingAverage: Sendable {
    init(period: Int)
    var warmUp: Int { get }
    mutating func update(_ x: Double) -> Double?
}

extension SMA: MovingAverage {}
extension EMA: MovingAverage {}

/// Enter when the fast moving average of closes crosses above the slow one; exit when it
/// crosses below (strictly, as `crossedAbove` defines). The classic trend-following pair.
public struct MovingAverageCrossover<Average: MovingAverage>: Strategy {
    public let name: String
    private let label: String
    private var fast: Average
    private var slow: Average
    private var previous: (fast: Double, slow: Double)?

    init(name: String, label: String, _ parameters: StrategyParameters) throws(GordonError) {
        try parameters.require(parameters.int("fast") < parameters.int("slow"), "fast must be below slow")
        self.name = name
        self.label = label
        fast = Average(period: parameters.int("fast"))
        slow = Average(period: parameters.int("slow"))
    }

    public var warmUp: Int { slow.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        let fastValue = fast.update(close)
        guard let slowValue = slow.update(close), let fastValue else { return .hold }
        defer { previous = (fastValue, slowValue) }
        guard let previous else { return .hold }
        if crossedAbove(previousA: previous.fast, previousB: previous.slow, a: fastValue, b: slowValue) {
            return .enterLong(reason: "fast \(label) crossed above slow")
        }
        if crossedAbove(previousA: previous.slow, previousB: previous.fast, a: slowValue, b: fastValue) {
            return .exit(reason: "fast \(label) crossed below slow")
        }
        return .hold
    }

    static func descriptor(name: String, label: String, fast: Double, slow: Double) -> StrategyDescriptor {
        StrategyDescriptor(
            name: name, summary: "fast \(label) crosses above slow \(label): enter; below: exit",
            parameters: [ParameterSpec("fast", default: fast, range: 1...10_000, integer: true, "fast \(label) period"),
                         ParameterSpec("slow", default: slow, range: 2...100_000, integer: true, "slow \(label) period")]
        ) { parameters throws(GordonError) in try MovingAverageCrossover(name: name, label: label, parameters) }
    }
}

/// Simple moving averages, 10/30 by default (backtesting.py's example pair scaled down).
public enum SMACrossover {
    public static let descriptor = MovingAverageCrossover<SMA>.descriptor(name: "sma_crossover", label: "SMA", fast: 10, slow: 30)
}

/// Exponential moving averages, Appel's 12/26 by default.
public enum EMACrossover {
    public static let descriptor = MovingAverageCrossover<EMA>.descriptor(name: "ema_crossover", label: "EMA", fast: 12, slow: 26)
}
