public import GordonKernel

/// Bollinger squeeze breakout: after the band width has been narrow (below `squeeze` times
/// its own average over `lookback` bars), enter when the close breaks above the upper
/// band; exit when it falls below the middle band. Defaults 20 / 2 / 100 / 0.75.
public struct BollingerSqueezeBreakout: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "bollinger_squeeze_breakout", summary: "narrow bands, then a close above the upper band: enter; below the middle: exit",
        parameters: [ParameterSpec("period", default: 20, range: 2...10_000, integer: true, "band period"),
                     ParameterSpec("multiplier", default: 2, range: 0.1...10, "standard deviations"),
                     ParameterSpec("lookback", default: 100, range: 2...100_000, integer: true, "bars of band width to compare with"),
                     ParameterSpec("squeeze", default: 0.75, range: 0.01...1, "width below this fraction of its average is a squeeze")]
    ) { parameters throws(GordonError) in try BollingerSqueezeBreakout(parameters) }

    private var bands: BollingerBands
    private var averageWidth: SMA
    private let squeeze: Double
    private var wasSqueezed = false

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        bands = BollingerBands(period: parameters.int("period"), multiplier: parameters.double("multiplier"))
        averageWidth = SMA(period: parameters.int("lookback"))
        squeeze = parameters.double("squeeze")
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { bands.warmUp + averageWidth.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        guard let value = bands.update(close), let average = averageWidth.update(value.bandwidth) else { return .hold }
        let squeezedBefore = wasSqueezed
        wasSqueezed = value.bandwidth < squeeze * average
        if squeezedBefore, close > value.upper { return .enterLong(reason: "breakout above upper band after a squeeze") }
        if close < value.middle { return .exit(reason: "close below middle band") }
        return .hold
    }
}

/// The turtles' Donchian breakout: enter when the close exceeds the highest high of the
/// previous `entry` bars, exit when it falls below the lowest low of the previous `exit`
/// bars. Defaults 20 / 10 (Dennis and Eckhardt's System 1).
public struct DonchianBreakout: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "donchian_breakout", summary: "close above the prior entry-bar high: enter; below the prior exit-bar low: exit",
        parameters: [ParameterSpec("entry", default: 20, range: 1...100_000, integer: true, "entry channel"),
                     ParameterSpec("exit", default: 10, range: 1...100_000, integer: true, "exit channel")]
    ) { parameters throws(GordonError) in try DonchianBreakout(parameters) }

    private var entryChannel: Donchian
    private var exitChannel: Donchian
    private var previousEntry: DonchianValue?
    private var previousExit: DonchianValue?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        entryChannel = Donchian(period: parameters.int("entry"))
        exitChannel = Donchian(period: parameters.int("exit"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { max(entryChannel.warmUp, exitChannel.warmUp) + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let bar = context.bar
        // Compare with the channels of the bars before this one, then add this bar.
        let entryLevel = previousEntry, exitLevel = previousExit
        previousEntry = entryChannel.update(bar)
        previousExit = exitChannel.update(bar)
        if let entryLevel, bar.close > entryLevel.upper { return .enterLong(reason: "close above the entry channel") }
        if let exitLevel, bar.close < exitLevel.lower { return .exit(reason: "close below the exit channel") }
        return .hold
    }
}

/// Appel's MACD: enter when the MACD line crosses above its signal line, exit when it
/// crosses below. Defaults 12 / 26 / 9.
public struct MACDSignalCross: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "macd_signal_cross", summary: "MACD crosses above its signal: enter; below: exit",
        parameters: [ParameterSpec("fast", default: 12, range: 1...10_000, integer: true, "fast EMA"),
                     ParameterSpec("slow", default: 26, range: 2...10_000, integer: true, "slow EMA"),
                     ParameterSpec("signal", default: 9, range: 1...10_000, integer: true, "signal EMA")]
    ) { parameters throws(GordonError) in try MACDSignalCross(parameters) }

    private var macd: MACD
    private var previous: MACDValue?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        try parameters.require(parameters.int("fast") < parameters.int("slow"), "fast must be below slow")
        macd = MACD(fast: parameters.int("fast"), slow: parameters.int("slow"), signal: parameters.int("signal"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { macd.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = macd.update(context.close) else { return .hold }
        defer { previous = value }
        guard let previous else { return .hold }
        if crossedAbove(previousA: previous.macd, previousB: previous.signal, a: value.macd, b: value.signal) {
            return .enterLong(reason: "MACD crossed above signal")
        }
        if crossedAbove(previousA: previous.signal, previousB: previous.macd, a: value.signal, b: value.macd) {
            return .exit(reason: "MACD crossed below signal")
        }
        return .hold
    }
}

/// Supertrend trend-following: enter when the Supertrend flips to an uptrend, exit when it
/// flips down. Defaults 10 / 3.
public struct SupertrendFollow: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "supertrend_follow", summary: "Supertrend turns up: enter; turns down: exit",
        parameters: [ParameterSpec("period", default: 10, range: 1...10_000, integer: true, "ATR period"),
                     ParameterSpec("multiplier", default: 3, range: 0.1...50, "ATR multiple")]
    ) { parameters throws(GordonError) in try SupertrendFollow(parameters) }

    private var supertrend: Supertrend
    private var wasUp: Bool?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        supertrend = Supertrend(period: parameters.int("period"), multiplier: parameters.double("multiplier"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { supertrend.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = supertrend.update(context.bar) else { return .hold }
        defer { wasUp = value.isUptrend }
        guard let wasUp, wasUp != value.isUptrend else { return .hold }
        return value.isUptrend ? .enterLong(reason: "Supertrend turned up") : .exit(reason: "Supertrend turned down")
    }
}

/// Wilder's directional movement: enter when +DI crosses above −DI while ADX shows a trend
/// (above `threshold`), exit when −DI crosses above +DI. Defaults 14 / 25.
public struct ADXTrend: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "adx_trend", summary: "+DI crosses above -DI with ADX above threshold: enter; -DI above +DI: exit",
        parameters: [ParameterSpec("period", default: 14, range: 1...10_000, integer: true, "DMI period (Wilder)"),
                     ParameterSpec("threshold", default: 25, range: 0...100, "ADX level for a trend")]
    ) { parameters throws(GordonError) in try ADXTrend(parameters) }

    private var adx: ADX
    private let threshold: Double
    private var previous: ADXValue?

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        adx = ADX(period: parameters.int("period"))
        threshold = parameters.double("threshold")
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { adx.warmUp + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        guard let value = adx.update(context.bar) else { return .hold }
        defer { previous = value }
        guard let previous else { return .hold }
        if value.adx > threshold,
           crossedAbove(previousA: previous.plusDI, previousB: previous.minusDI, a: value.plusDI, b: value.minusDI) {
            return .enterLong(reason: "+DI crossed above -DI with ADX above \(threshold)")
        }
        if crossedAbove(previousA: previous.minusDI, previousB: previous.plusDI, a: value.minusDI, b: value.plusDI) {
            return .exit(reason: "-DI crossed above +DI")
        }
        return .hold
    }
}

/// Keltner channel breakout: enter when the close breaks above the upper channel, exit when
/// it falls below the middle line. Defaults EMA 20, ATR 10, multiple 2.
public struct KeltnerBreakout: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "keltner_breakout", summary: "close above the upper channel: enter; below the middle: exit",
        parameters: [ParameterSpec("ema_period", default: 20, range: 1...10_000, integer: true, "middle EMA"),
                     ParameterSpec("atr_period", default: 10, range: 1...10_000, integer: true, "ATR period"),
                     ParameterSpec("multiplier", default: 2, range: 0.1...50, "ATR multiple")]
    ) { parameters throws(GordonError) in try KeltnerBreakout(parameters) }

    private var keltner: Keltner

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        keltner = Keltner(emaPeriod: parameters.int("ema_period"), atrPeriod: parameters.int("atr_period"),
                          multiplier: parameters.double("multiplier"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { keltner.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        let bar = context.bar
        guard let value = keltner.update(bar) else { return .hold }
        if bar.close > value.upper { return .enterLong(reason: "close above the upper channel") }
        if bar.close < value.middle { return .exit(reason: "close below the middle line") }
        return .hold
    }
}

/// Volatility-adjusted momentum: the `lookback`-bar log return divided by the volatility
/// expected over that horizon (per-bar volatility × √lookback), a trend's signal-to-noise.
/// Enter above `entry`, exit below `exit`. Defaults 50 / 50 / 1 / 0.
public struct VolatilityAdjustedMomentum: Strategy {
    public static let descriptor = StrategyDescriptor(
        name: "volatility_adjusted_momentum", summary: "momentum over volatility above entry: enter; below exit: exit",
        parameters: [ParameterSpec("lookback", default: 50, range: 1...100_000, integer: true, "momentum horizon in bars"),
                     ParameterSpec("vol_period", default: 50, range: 2...100_000, integer: true, "volatility window"),
                     ParameterSpec("entry", default: 1, range: -10...10, "entry score"),
                     ParameterSpec("exit", default: 0, range: -10...10, "exit score")]
    ) { parameters throws(GordonError) in try VolatilityAdjustedMomentum(parameters) }

    private var volatility: RollingVolatility
    private let lookback: Int
    private let entry: Double, exit: Double

    public init(_ parameters: StrategyParameters) throws(GordonError) {
        lookback = parameters.int("lookback")
        entry = parameters.double("entry")
        exit = parameters.double("exit")
        try parameters.require(exit < entry, "exit must be below entry")
        volatility = RollingVolatility(period: parameters.int("vol_period"))
    }

    public var name: String { Self.descriptor.name }
    public var warmUp: Int { max(lookback, volatility.warmUp) + 1 }

    public mutating func next(_ context: MarketContext) -> Signal {
        let close = context.close
        guard let perBar = volatility.update(close), perBar > 0, let then = context.close(ago: lookback), then > 0 else {
            return .hold
        }
        let score = MathFunctions.log(close / then) / (perBar * Double(lookback).squareRoot())
        if score > entry { return .enterLong(reason: "momentum score above \(entry)") }
        if score < exit { return .exit(reason: "momentum score below \(exit)") }
        return .hold
    }
}
