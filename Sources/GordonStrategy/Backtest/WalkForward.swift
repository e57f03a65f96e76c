public import GordonKernel

/// Which figure an optimisation maximises.
public enum Objective: String, Sendable, Hashable, Codable, CaseIterable {
    case sharpe
    case totalReturn = "total_return"
    case calmar

    func score(_ metrics: Metrics) -> Double {
        switch self {
        case .sharpe: metrics.sharpe
        case .totalReturn: metrics.totalReturn
        case .calmar: metrics.calmar
        }
    }
}

/// A grid of strategy parameters: every combination of the listed values. Parameters not
/// listed keep the plan's value (or the default).
public struct ParameterGrid: Sendable, Hashable {
    public let axes: [(name: String, values: [Double])]

    public init(_ axes: [String: [Double]]) {
        self.axes = axes.keys.sorted().map { ($0, axes[$0]!) }
    }

    public static func == (lhs: ParameterGrid, rhs: ParameterGrid) -> Bool {
        lhs.axes.map(\.name) == rhs.axes.map(\.name) && lhs.axes.map(\.values) == rhs.axes.map(\.values)
    }

    public func hash(into hasher: inout Hasher) {
        for axis in axes {
            hasher.combine(axis.name)
            hasher.combine(axis.values)
        }
    }

    /// Every combination, in a fixed order (the last axis varies fastest).
    public var points: [[String: Double]] {
        var result: [[String: Double]] = [[:]]
        for axis in axes {
            result = result.flatMap { partial in axis.values.map { value in partial.merging([axis.name: value]) { $1 } } }
        }
        return result
    }
}

/// Runs many plans over the same bars on all cores; results come back in input order, so a
/// sweep is as deterministic as a single run.
public enum ParameterSweep {
    public struct Point: Sendable {
        public let parameters: [String: Double]
        /// nil when the combination is invalid (e.g. fast ≥ slow); `error` says why.
        public let metrics: Metrics?
        public let error: GordonError?
    }

    public static func run(_ plan: TradingPlan, grid: ParameterGrid, on series: BarSeries, backtester: Backtester,
                           tradeFrom: Int = 0, concurrency: Int) async -> [Point] {
        let points = grid.points
        return await withTaskGroup(of: (Int, Point).self) { group in
            var results = [Point?](repeating: nil, count: points.count)
            var next = 0
            func add(_ index: Int) {
                let parameters = points[index]
                var variant = plan
                variant.strategy.parameters.merge(parameters) { $1 }
                group.addTask {
                    do throws(GordonError) {
                        let result = try backtester.run(variant, on: series, tradeFrom: tradeFrom)
                        return (index, Point(parameters: parameters, metrics: Metrics(result, from: tradeFrom), error: nil))
                    } catch {
                        return (index, Point(parameters: parameters, metrics: nil, error: error))
                    }
                }
            }
            while next < min(max(1, concurrency), points.count) {
                add(next)
                next += 1
            }
            while let (index, point) = await group.next() {
                results[index] = point
                if next < points.count {
                    add(next)
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}

extension Metrics {
    /// Metrics of the bars from `start` on (a walk-forward window's out-of-sample part).
    init(_ result: BacktestResult, from start: Int) {
        guard start > 0 else {
            self.init(result)
            return
        }
        let trades = result.trades.filter { $0.entryIndex >= start }
        self.init(equity: Array(result.equity[start...]), inPosition: Array(result.inPosition[start...]),
                  tradeProfits: trades.map(\.profit.doubleApproximation), tradeReturns: trades.map(\.returnFraction),
                  startEquity: result.equity[start - 1], barsPerYear: result.barsPerYear)
    }
}

/// Rolling walk-forward analysis: optimise on an in-sample window, trade the next
/// out-of-sample window with the winner, slide by the out-of-sample length.
public struct WalkForward: Sendable {
    public var inSampleBars: Int
    public var outOfSampleBars: Int
    public var objective: Objective
    public var concurrency: Int

    public init(inSampleBars: Int, outOfSampleBars: Int, objective: Objective = .sharpe, concurrency: Int = 2) {
        self.inSampleBars = inSampleBars
        self.outOfSampleBars = outOfSampleBars
        self.objective = objective
        self.concurrency = concurrency
    }

    public struct Window: Sendable {
        public let inSampleRange: Range<Int>
        public let outOfSampleRange: Range<Int>
        public let best: [String: Double]
        public let inSampleScore: Double
        public let outOfSample: Metrics
    }

    public struct Report: Sendable {
        public let windows: [Window]
        /// Out-of-sample equity of every window chained: each window starts where the last
        /// ended, so this is what trading the walk-forward choices would have earned.
        public let stitchedEquity: [Double]
        public let stitched: Metrics
    }

    public func run(_ plan: TradingPlan, grid: ParameterGrid, on series: BarSeries,
                    backtester: Backtester) async throws(GordonError) -> Report {
        guard inSampleBars > 0, outOfSampleBars > 0 else {
            throw GordonError(.invalidBacktestConfig, "walk-forward windows must be positive")
        }
        guard series.count >= inSampleBars + outOfSampleBars else {
            throw GordonError(.invalidBacktestConfig,
                              "walk-forward needs at least \(inSampleBars + outOfSampleBars) bars, got \(series.count)")
        }
        let startCash = backtester.settings.initialCash.doubleApproximation
        var windows: [Window] = []
        var stitched: [Double] = [], stitchedInPosition: [Bool] = [], profits: [Double] = [], returns: [Double] = []
        var level = startCash
        var barsPerYear = 0.0
        var start = 0
        while start + inSampleBars + outOfSampleBars <= series.count {
            let inSample = start..<(start + inSampleBars)
            let outOfSample = inSample.upperBound..<(inSample.upperBound + outOfSampleBars)
            let candidates = await ParameterSweep.run(plan, grid: grid, on: series.slice(inSample), backtester: backtester,
                                                      concurrency: concurrency)
            var best: ParameterSweep.Point?
            for candidate in candidates {
                guard let metrics = candidate.metrics else { continue }
                if best == nil || objective.score(metrics) > objective.score(best!.metrics!) { best = candidate }
            }
            guard let best else {
                throw candidates.first?.error ?? GordonError(.invalidBacktestConfig, "the parameter grid is empty")
            }
            // The out-of-sample run sees the in-sample bars to warm up, but trades only after.
            var chosen = plan
            chosen.strategy.parameters.merge(best.parameters) { $1 }
            let result = try backtester.run(chosen, on: series.slice(inSample.lowerBound..<outOfSample.upperBound),
                                            tradeFrom: inSampleBars)
            barsPerYear = result.barsPerYear
            let metrics = Metrics(result, from: inSampleBars)
            windows.append(Window(inSampleRange: inSample, outOfSampleRange: outOfSample, best: best.parameters,
                                  inSampleScore: objective.score(best.metrics!), outOfSample: metrics))
            let base = result.equity[inSampleBars - 1]
            for index in inSampleBars..<result.equity.count {
                stitched.append(level * result.equity[index] / base)
                stitchedInPosition.append(result.inPosition[index])
            }
            level = stitched.last ?? level
            for trade in result.trades where trade.entryIndex >= inSampleBars {
                profits.append(trade.profit.doubleApproximation)
                returns.append(trade.returnFraction)
            }
            start += outOfSampleBars
        }
        return Report(windows: windows, stitchedEquity: stitched,
                      stitched: Metrics(equity: stitched, inPosition: stitchedInPosition, tradeProfits: profits,
                                        tradeReturns: returns, startEquity: startCash, barsPerYear: barsPerYear))
    }
}

/// What each overlay contributes: the plan with all overlays, with none, and with each one
/// removed in turn.
public enum Ablation {
    public struct Row: Sendable {
        public let label: String
        public let metrics: Metrics
    }

    public static func run(_ plan: TradingPlan, on series: BarSeries, backtester: Backtester) throws(GordonError) -> [Row] {
        var rows = [Row(label: "all overlays", metrics: try backtester.run(plan, on: series).metrics)]
        guard !plan.overlays.isEmpty else { return rows }
        var bare = plan
        bare.overlays = []
        rows.append(Row(label: "no overlays", metrics: try backtester.run(bare, on: series).metrics))
        for index in plan.overlays.indices {
            var without = plan
            let removed = without.overlays.remove(at: index)
            rows.append(Row(label: "without \(removed.name)", metrics: try backtester.run(without, on: series).metrics))
        }
        return rows
    }
}
