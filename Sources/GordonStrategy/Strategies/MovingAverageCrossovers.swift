import GordonKernel

/// Enter when the fast moving average of closes crosses above the slow one; exit when it
/// crosses below (strictly, as `crossedAbove` defines). The classic trend-following pair,
/// on simple or exponential averages.
///
/// Not generic over the average on purpose: a generic strategy behind `any Strategy` runs
/// unspecialised and looks up its type metadata on every bar, which costs more than the
/// averages themselves.
public struct MovingAverageCrossover: Strategy {
    public enum Average: String, Sendable {
        case simple = "SMA"
        case exponential = "EMA"
    }

    public let name: String
    public let average: Average
    private var simple: (fast: SMA, slow: SMA)?
    private var exponential: (fast: EMA, slow: EMA)?
    private var previous: (fast: Double, slow: Double)?

    init(name: String, average: Average, _ parameters: StrategyParameters) throws(GordonError) {
        let fast = parameters.int("fast"), slow = parameters.int("slow")
        try parameters.require(fast < slow, "fast must be below slow")
        self.name = name
        self.average = average
        switch average {
        case .simple: simple = (SMA(period: fast), SMA(period: slow))
        case .exponential: exponential = (EMA(period: fast), EMA(period: slow))
        }
    }

    public var warmUp: Int { (simple?.slow.warmUp ?? exponential?.slow.warmUp ?? 0) + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        let fastValue: Double?, slowValue: Double?
        if simple != nil {
            fastValue = simple!.fast.update(close)
            slowValue = simple!.slow.update(close)
        } else {
            fastValue = exponential!.fast.update(close)
            slowValue = exponential!.slow.update(close)
        }
        guard let fastValue, let slowValue else { return .hold }
        defer { previous = (fastValue, slowValue) }
        guard let previous else { return .hold }
        if crossedAbove(previousA: previous.fast, previousB: previous.slow, a: fastValue, b: slowValue) {
            return .enterLong(reason: average == .simple ? "fast SMA crossed above slow" : "fast EMA crossed above slow")
        }
        if crossedAbove(previousA: previous.slow, previousB: previous.fast, a: slowValue, b: fastValue) {
            return .exit(reason: average == .simple ? "fast SMA crossed below slow" : "fast EMA crossed below slow")
        }
        return .hold
    }

    static func descriptor(name: String, average: Average, fast: Double, slow: Double) -> StrategyDescriptor {
        let label = average.rawValue
        return StrategyDescriptor(
            name: name, summary: "fast \(label) crosses above slow \(label): enter; below: exit",
            parameters: [ParameterSpec("fast", default: fast, range: 1...10_000, integer: true, "fast \(label) period"),
                         ParameterSpec("slow", default: slow, range: 2...100_000, integer: true, "slow \(label) period")]
        ) { parameters throws(GordonError) in try MovingAverageCrossover(name: name, average: average, parameters) }
    }
}

/// Simple moving averages, 10/30 by default (backtesting.py's example pair scaled down).
public enum SMACrossover {
    public static let descriptor = MovingAverageCrossover.descriptor(name: "sma_crossover", average: .simple, fast: 10, slow: 30)
}

/// Exponential moving averages, Appel's 12/26 by default.
public enum EMACrossover {
    public static let descriptor = MovingAverageCrossover.descriptor(name: "ema_crossover", average: .exponential, fast: 12, slow: 26)
}
