public import GordonKernel

/// Enter when the fast simple moving average of closes crosses above the slow one; exit
/// when it crosses below. The classic trend-following pair (Donchian's 5/20, the "golden
/// cross" 50/200); defaults 10/30.
public struct SMACrossover: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "sma_crossover", summary: "fast SMA crosses above slow SMA: enter; below: exit",
        parameters: [ParameterSpec("fast", default: 10, range: 1...10_000, integer: true, "fast SMA period"),
                     ParameterSpec("slow", default: 30, range: 2...100_000, integer: true, "slow SMA period")]
    ) { parameters throws(GordonError) in try SMACrossover(parameters) }

    private var fast: SMA
    private var slow: SMA
    private var previous: (fast: Double, slow: Double)?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        try parameters.require(parameters.int("fast") < parameters.int("slow"), "fast must be below slow")
        fast = SMA(period: parameters.int("fast"))
        slow = SMA(period: parameters.int("slow"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { slow.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        let fastValue = fast.update(close)
        guard let slowValue = slow.update(close), let fastValue else { return .hold }
        defer { previous = (fastValue, slowValue) }
        guard let previous else { return .hold }
        if crossedAbove(previousA: previous.fast, previousB: previous.slow, a: fastValue, b: slowValue) {
            return .enterLong(reason: "fast SMA crossed above slow")
        }
        if crossedAbove(previousA: previous.slow, previousB: previous.fast, a: slowValue, b: fastValue) {
            return .exit(reason: "fast SMA crossed below slow")
        }
        return .hold
    }
}

/// Enter when the fast exponential moving average crosses above the slow one; exit on the
/// cross below (Appel's 12/26 pair by default).
public struct EMACrossover: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "ema_crossover", summary: "fast EMA crosses above slow EMA: enter; below: exit",
        parameters: [ParameterSpec("fast", default: 12, range: 1...10_000, integer: true, "fast EMA period"),
                     ParameterSpec("slow", default: 26, range: 2...100_000, integer: true, "slow EMA period")]
    ) { parameters throws(GordonError) in try EMACrossover(parameters) }

    private var fast: EMA
    private var slow: EMA
    private var previous: (fast: Double, slow: Double)?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        try parameters.require(parameters.int("fast") < parameters.int("slow"), "fast must be below slow")
        fast = EMA(period: parameters.int("fast"))
        slow = EMA(period: parameters.int("slow"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { slow.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        let fastValue = fast.update(close)
        guard let slowValue = slow.update(close), let fastValue else { return .hold }
        defer { previous = (fastValue, slowValue) }
        guard let previous else { return .hold }
        if crossedAbove(previousA: previous.fast, previousB: previous.slow, a: fastValue, b: slowValue) {
            return .enterLong(reason: "fast EMA crossed above slow")
        }
        if crossedAbove(previousA: previous.slow, previousB: previous.fast, a: slowValue, b: fastValue) {
            return .exit(reason: "fast EMA crossed below slow")
        }
        return .hold
    }
}
