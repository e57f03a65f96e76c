public import GordonKernel

/// A rule layered on any entry strategy: an exit the strategy does not know about (stops,
/// take-profit, time), or a filter that vetoes entries (cooldown, regime).
///
/// Overlays are configured like strategies, by name and parameters
/// (`{"name": "stop_loss", "parameters": {"percent": 2}}`), and evaluated at each bar's
/// close after the strategy, so their exits execute with the same timing as its signals.
public enum Overlay: Sendable, Hashable {
    /// Exit when the close is `percent`% below the entry price.
    case stopLoss(percent: Double)
    /// Exit when the close is `multiple` ATRs (Wilder, `period`) below the entry price, the
    /// ATR taken at the first close in the position (or the first after its warm-up).
    case atrStop(period: Int, multiple: Double)
    /// Exit when the close is `percent`% above the entry price.
    case takeProfit(percent: Double)
    /// Exit when the close is `percent`% below the highest close since entry.
    case trailingStop(percent: Double)
    /// Exit after holding `bars` bars.
    case timeStop(bars: Int)
    /// No entry within `bars` bars of the last exit.
    case cooldown(bars: Int)
    /// Entries only while the close is above its simple moving average of `period` bars.
    case regimeFilter(period: Int)

    public typealias Descriptor = RuleDescriptor<Overlay>

    public static let catalog: [Descriptor] = [
        Descriptor(name: "stop_loss", summary: "exit when the close falls percent% below the entry price",
                   parameters: [ParameterSpec("percent", default: 5, range: 0.01...99, "loss that triggers the exit, in %")]) {
            .stopLoss(percent: $0.double("percent"))
        },
        Descriptor(name: "atr_stop", summary: "exit when the close falls multiple×ATR below the entry price",
                   parameters: [ParameterSpec("period", default: 14, range: 1...1000, integer: true, "ATR period (Wilder)"),
                                ParameterSpec("multiple", default: 3, range: 0.1...50, "ATRs below entry")]) {
            .atrStop(period: $0.int("period"), multiple: $0.double("multiple"))
        },
        Descriptor(name: "take_profit", summary: "exit when the close rises percent% above the entry price",
                   parameters: [ParameterSpec("percent", default: 10, range: 0.01...10_000, "gain that triggers the exit, in %")]) {
            .takeProfit(percent: $0.double("percent"))
        },
        Descriptor(name: "trailing_stop", summary: "exit when the close falls percent% below the highest close since entry",
                   parameters: [ParameterSpec("percent", default: 5, range: 0.01...99, "drawdown from the high, in %")]) {
            .trailingStop(percent: $0.double("percent"))
        },
        Descriptor(name: "time_stop", summary: "exit after holding bars bars",
                   parameters: [ParameterSpec("bars", default: 100, range: 1...10_000_000, integer: true, "bars to hold at most")]) {
            .timeStop(bars: $0.int("bars"))
        },
        Descriptor(name: "cooldown", summary: "no entry within bars bars of an exit",
                   parameters: [ParameterSpec("bars", default: 10, range: 1...10_000_000, integer: true, "bars to wait")]) {
            .cooldown(bars: $0.int("bars"))
        },
        Descriptor(name: "regime_filter", summary: "enter only while the close is above its SMA(period)",
                   parameters: [ParameterSpec("period", default: 200, range: 2...100_000, integer: true, "SMA period")]) {
            .regimeFilter(period: $0.int("period"))
        },
    ]

    /// The overlay a config names, or a clear error.
    public init(_ config: StrategyConfig) throws(GordonError) {
        self = try Descriptor.make(config, from: Overlay.catalog, kind: "overlay")
    }

    public var name: String {
        switch self {
        case .stopLoss: "stop_loss"
        case .atrStop: "atr_stop"
        case .takeProfit: "take_profit"
        case .trailingStop: "trailing_stop"
        case .timeStop: "time_stop"
        case .cooldown: "cooldown"
        case .regimeFilter: "regime_filter"
        }
    }
}

/// An entry strategy with overlays applied, itself a `Strategy`, so the bot and the
/// backtester run the composition exactly as they would run a bare strategy.
public struct OverlaidStrategy: Strategy {
    public private(set) var base: any Strategy
    public let overlays: [Overlay]
    private var atrs: [ATR]
    private var smas: [SMA]
    private var atrAtEntry: [Double?]
    private var highestClose = 0.0
    private var wasOpen = false

    public init(_ base: any Strategy, overlays: [Overlay]) {
        self.base = base
        self.overlays = overlays
        var atrs: [ATR] = [], smas: [SMA] = []
        for overlay in overlays {
            switch overlay {
            case .atrStop(let period, _): atrs.append(ATR(period: period))
            case .regimeFilter(let period): smas.append(SMA(period: period))
            default: break
            }
        }
        self.atrs = atrs
        self.smas = smas
        self.atrAtEntry = Array(repeating: nil, count: atrs.count)
    }

    public var name: String {
        overlays.isEmpty ? base.name : base.name + "+" + overlays.map(\.name).joined(separator: "+")
    }

    public var warmUp: Int { base.warmUp }

    public mutating func next(_ context: MarketContext) -> Signal {
        let bar = context.bar
        var atrValues: [Double?] = []
        atrValues.reserveCapacity(atrs.count)
        for index in atrs.indices { atrValues.append(atrs[index].update(bar)) }
        var smaValues: [Double?] = []
        smaValues.reserveCapacity(smas.count)
        for index in smas.indices { smaValues.append(smas[index].update(bar.close)) }

        let position = context.position
        if position.isOpen {
            if !wasOpen {
                highestClose = bar.close
                for index in atrs.indices { atrAtEntry[index] = nil }
            }
            // The ATR at entry, or the first one after it if the ATR was still warming up.
            for index in atrs.indices where atrAtEntry[index] == nil { atrAtEntry[index] = atrValues[index] }
            highestClose = max(highestClose, bar.close)
        }
        wasOpen = position.isOpen

        let signal = base.next(context)
        if position.isOpen {
            if let exit = exitReason(close: bar.close, position: position, barsHeld: context.index - position.entryIndex) {
                return .exit(reason: exit)
            }
            return signal
        }
        guard signal.isEntry else { return signal }
        var smaIndex = 0
        for overlay in overlays {
            switch overlay {
            case .cooldown(let bars):
                if let exitIndex = position.lastExitIndex, context.index - exitIndex < bars { return .hold }
            case .regimeFilter:
                defer { smaIndex += 1 }
                guard let average = smaValues[smaIndex], bar.close > average else { return .hold }
            default:
                break
            }
        }
        return signal
    }

    private func exitReason(close: Double, position: PositionView, barsHeld: Int) -> String? {
        var atrIndex = 0
        for overlay in overlays {
            switch overlay {
            case .stopLoss(let percent):
                if close <= position.entryPrice * (1 - percent / 100) { return "stop_loss" }
            case .atrStop(_, let multiple):
                defer { atrIndex += 1 }
                if let atr = atrAtEntry[atrIndex], close <= position.entryPrice - multiple * atr { return "atr_stop" }
            case .takeProfit(let percent):
                if close >= position.entryPrice * (1 + percent / 100) { return "take_profit" }
            case .trailingStop(let percent):
                if close <= highestClose * (1 - percent / 100) { return "trailing_stop" }
            case .timeStop(let bars):
                if barsHeld >= bars { return "time_stop" }
            case .cooldown, .regimeFilter:
                break
            }
        }
        return nil
    }
}
