import GordonDomain
import GordonKernel

/// A backtest's files: the trade list and equity curve as CSV, the curve as an SVG picture.
/// Text only, built from the result alone, so the same run gives byte-identical files.
public enum BacktestReport {
    public static let tradesHeader =
        "entry_bar,exit_bar,entry_time,exit_time,entry_price,exit_price,quantity,commission,profit,return_pct,entry_reason,exit_reason"

    public static func tradesCSV(_ result: BacktestResult) -> String {
        var text = tradesHeader + "\n"
        for trade in result.trades {
            let fields = [
                "\(trade.entryIndex)", "\(trade.exitIndex)", trade.entryTime.description, trade.exitTime.description,
                trade.entryPrice.description, trade.exitPrice.description, trade.quantity.description,
                trade.commission.description, trade.profit.description, Format.fixed(trade.returnFraction * 100, 4),
                csvField(trade.entryReason), csvField(trade.exitReason),
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    public static func equityCSV(_ result: BacktestResult) -> String {
        var text = "bar,open_time,equity,in_position\n"
        text.reserveCapacity(result.equity.count * 48)
        for index in result.equity.indices {
            text += "\(index),\(Timestamp(milliseconds: result.times[index])),\(Format.fixed(result.equity[index], 8)),"
            text += result.inPosition[index] ? "1\n" : "0\n"
        }
        return text
    }

    /// The summary as an aligned two-column table.
    public static func summary(_ result: BacktestResult, title: String) -> String {
        let commission = (try? result.totalCommission.rounded(scale: 8, rule: .halfEven)) ?? result.totalCommission
        let rows = [("strategy", result.strategyName), ("commission paid", commission.description)]
            + result.metrics.rows
        let width = rows.map(\.0.count).max() ?? 0
        var text = title + "\n"
        for (label, value) in rows {
            text += label + String(repeating: " ", count: width - label.count) + "  " + value + "\n"
        }
        return text
    }

    /// The equity curve as a standalone SVG (at most `maxPoints` points, each the last
    /// equity of its bucket, plus the bucket's low so drawdowns stay visible).
    public static func equitySVG(_ result: BacktestResult, title: String, maxPoints: Int = 1500) -> String {
        let width = 1000.0, height = 420.0, left = 80.0, right = 20.0, top = 40.0, bottom = 50.0
        let values = result.equity
        guard !values.isEmpty else { return "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n" }
        var points: [(Int, Double)] = []
        let bucket = max(1, (values.count + maxPoints - 1) / maxPoints)
        var start = 0
        while start < values.count {
            let end = min(values.count, start + bucket)
            var lowIndex = start
            for index in start..<end where values[index] < values[lowIndex] { lowIndex = index }
            if lowIndex != end - 1 { points.append((lowIndex, values[lowIndex])) }
            points.append((end - 1, values[end - 1]))
            start = end
        }
        let low = min(values.min()!, result.initialCash.doubleApproximation)
        let high = max(values.max()!, result.initialCash.doubleApproximation)
        let span = high > low ? high - low : 1
        func x(_ index: Int) -> Double { left + (width - left - right) * Double(index) / Double(max(1, values.count - 1)) }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - low) / span) }
        let path = points.map { "\(Format.fixed(x($0.0), 1)),\(Format.fixed(y($0.1), 1))" }.joined(separator: " ")
        let first = Timestamp(milliseconds: result.times.first!).description.prefix(10)
        let last = Timestamp(milliseconds: result.times.last!).description.prefix(10)
        let base = y(result.initialCash.doubleApproximation)
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(left))" y="24" font-size="15">\(MarkupText.escaped(title))</text>
        <line x1="\(Int(left))" y1="\(Int(top))" x2="\(Int(left))" y2="\(Int(height - bottom))" stroke="#444"/>
        <line x1="\(Int(left))" y1="\(Int(height - bottom))" x2="\(Int(width - right))" y2="\(Int(height - bottom))" stroke="#444"/>
        <line x1="\(Int(left))" y1="\(Format.fixed(base, 1))" x2="\(Int(width - right))" y2="\(Format.fixed(base, 1))" stroke="#bbb" stroke-dasharray="4 4"/>
        <text x="\(Int(left) - 6)" y="\(Int(top) + 4)" text-anchor="end">\(Format.fixed(high, 0))</text>
        <text x="\(Int(left) - 6)" y="\(Int(height - bottom))" text-anchor="end">\(Format.fixed(low, 0))</text>
        <text x="\(Int(left))" y="\(Int(height - bottom) + 20)">\(first)</text>
        <text x="\(Int(width - right))" y="\(Int(height - bottom) + 20)" text-anchor="end">\(last)</text>
        <polyline fill="none" stroke="#1f6feb" stroke-width="1.2" points="\(path)"/>
        </svg>

        """
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return text }
        var quoted = "\""
        for character in text {
            if character == "\"" { quoted += "\"" }
            quoted.append(character)
        }
        return quoted + "\""
    }
}
