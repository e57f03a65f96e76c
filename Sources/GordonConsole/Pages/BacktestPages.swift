import Foundation
import GordonStrategy

/// Backtests on the manager (its child processes, over the stored klines): the runs, a form
/// generated from the strategy catalogue's parameters and ranges, and each run's progress,
/// metrics and equity curve, with two runs compared on one chart.
enum BacktestPages {
    static let intervals = ["1m", "5m", "15m", "1h", "4h", "1d"]

    static func list(_ runs: [[String: Any]], session: ConsoleSession) -> String {
        var html = "<h1>Backtests</h1>"
        if session.role == .operator { html += "<p><a id=\"new-backtest\" href=\"/backtests/new\">New backtest</a></p>" }
        html += "<form class=\"filter\" method=\"get\" action=\"/backtests/compare\">"
        html += HTML.table(["", "Created", "Strategy", "Market", "From", "To", "Status", "Return", "By"], runs.map { run in
            let id = run["run_id"] as? String ?? ""
            return ["<input type=\"checkbox\" name=\"run\" value=\"\(HTML.escape(id))\" aria-label=\"compare\">",
                    "<a href=\"/backtests/\(HTML.escape(id))\">\(OverviewPage.text(run["created_at"]))</a>",
                    OverviewPage.text(run["strategy"]), "\(OverviewPage.text(run["symbol"])) \(OverviewPage.text(run["interval"]))",
                    OverviewPage.text(run["from_time"]), OverviewPage.text(run["to_time"]), status(run),
                    OverviewPage.text((run["summary"] as? [String: Any])?["total_return"]), OverviewPage.text(run["requested_by"])]
        }, empty: "No backtests yet.")
        return html + (runs.count > 1 ? "<button type=\"submit\" id=\"compare\">Compare two</button>" : "") + "</form>"
    }

    static func status(_ run: [String: Any]) -> String {
        let status = run["status"] as? String ?? "?"
        let progress = (run["progress"] as? NSNumber)?.intValue ?? 0
        switch status {
        case "running", "queued": return "<progress max=\"100\" value=\"\(progress)\"></progress> \(HTML.escape(status)) \(progress)%"
        case "succeeded": return "<span class=\"ready\">succeeded</span>"
        default: return "<span class=\"down\">\(HTML.escape(status))</span>"
        }
    }

    /// The new-backtest form for `strategy` (the catalogue's first by default): one number
    /// field per parameter with its range, default and step.
    static func form(strategy name: String?, session: ConsoleSession, problem: String? = nil, values: [String: String] = [:]) -> String {
        let descriptor = StrategyCatalog.all.first { $0.name == name } ?? StrategyCatalog.all[0]
        var html = "<h1>New backtest</h1>" + (problem.map(ConsoleRoutes.notice) ?? "")
        html += "<form class=\"filter\" method=\"get\" action=\"/backtests/new\"><label>Strategy <select name=\"strategy\" id=\"strategy\">"
        html += StrategyCatalog.all.map {
            "<option value=\"\($0.name)\"\($0.name == descriptor.name ? " selected" : "")>\(HTML.escape($0.name))</option>"
        }.joined()
        html += "</select></label><button type=\"submit\" id=\"choose\">Choose</button></form>"
        html += "<p class=\"muted\">\(HTML.escape(descriptor.summary))</p>"
        html += "<form class=\"backtest\" method=\"post\" action=\"/backtests\">\(HTML.csrfField(session))"
        html += "<input type=\"hidden\" name=\"strategy\" value=\"\(HTML.escape(descriptor.name))\"><fieldset><legend>Parameters</legend>"
        for spec in descriptor.parameters {
            let value = values["p." + spec.name] ?? number(spec.defaultValue)
            html += "<label>\(HTML.escape(spec.name)) <input type=\"number\" name=\"p.\(HTML.escape(spec.name))\" id=\"p-\(HTML.escape(spec.name))\""
                + " value=\"\(HTML.escape(value))\" min=\"\(number(spec.range.lowerBound))\" max=\"\(number(spec.range.upperBound))\""
                + " step=\"\(spec.isInteger ? "1" : "any")\" required> <small>\(HTML.escape(spec.summary))</small></label>"
        }
        html += "</fieldset><fieldset><legend>Market and account</legend>"
        html += field("Symbol", "symbol", values["symbol"] ?? "BTCUSDT", type: "text", extra: " pattern=\"[A-Z0-9]{5,20}\"")
        html += "<label>Interval <select name=\"interval\">" + intervals.map {
            "<option\($0 == (values["interval"] ?? "1m") ? " selected" : "")>\($0)</option>"
        }.joined() + "</select></label>"
        html += field("From (UTC)", "from", values["from"] ?? "", type: "date")
        html += field("To (UTC)", "to", values["to"] ?? "", type: "date")
        html += field("Cash (USDT)", "cash", values["cash"] ?? "1000", type: "number", extra: " min=\"1\" step=\"any\"")
        html += field("Fee (bps)", "fee", values["fee"] ?? "10", type: "number", extra: " min=\"0\" max=\"100\" step=\"any\"")
        html += "</fieldset><button type=\"submit\" id=\"submit-backtest\">Run backtest</button></form>"
        return html
    }

    private static func field(_ label: String, _ name: String, _ value: String, type: String, extra: String = "") -> String {
        "<label>\(label) <input type=\"\(type)\" name=\"\(name)\" id=\"\(name)\" value=\"\(HTML.escape(value))\" required\(extra)></label>"
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// The manager's backtest request from the posted form, or what is wrong with it.
    static func request(from form: [String: String]) -> Result<String, BacktestFormError> {
        guard let name = form["strategy"], let descriptor = StrategyCatalog.all.first(where: { $0.name == name }) else {
            return .failure(.init(message: "choose a strategy from the catalogue"))
        }
        var parameters: [String: Double] = [:]
        for spec in descriptor.parameters {
            guard let text = form["p." + spec.name], let value = Double(text), value.isFinite else {
                return .failure(.init(message: "\(spec.name) must be a number"))
            }
            parameters[spec.name] = value
        }
        do {
            _ = try StrategyCatalog.make(StrategyConfig(name: name, parameters: parameters))
        } catch {
            return .failure(.init(message: error.message))
        }
        guard let from = day(form["from"]), let to = day(form["to"]) else {
            return .failure(.init(message: "from and to must be dates (YYYY-MM-DD)"))
        }
        guard from < to else { return .failure(.init(message: "from must be before to")) }
        let symbol = form["symbol"] ?? ""
        guard (5...20).contains(symbol.utf8.count), symbol.utf8.allSatisfy({ (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) }) else {
            return .failure(.init(message: "the symbol must be Binance's, e.g. BTCUSDT"))
        }
        guard let interval = form["interval"], intervals.contains(interval) else { return .failure(.init(message: "choose an interval")) }
        guard let cash = form["cash"], let cashValue = Decimal(string: cash), cashValue > 0, !cash.contains("e"), !cash.contains("E") else {
            return .failure(.init(message: "cash must be a positive amount"))
        }
        guard let fee = form["fee"], let feeValue = Decimal(string: fee), feeValue >= 0, feeValue <= 100 else {
            return .failure(.init(message: "the fee must be 0-100 basis points"))
        }
        let plan: [String: Any] = ["strategy": ["name": name, "parameters": parameters]]
        let body: [String: Any] = [
            "plan": plan, "symbol": symbol, "interval": interval, "from": from, "to": to, "cash": "\(cashValue)",
            "maker_fee_bps": "\(feeValue)", "taker_fee_bps": "\(feeValue)", "pay_fees_with_bnb": false, "fill": "next_open",
            "slippage_bps": "0",
        ]
        guard let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]) else {
            return .failure(.init(message: "the request could not be written"))
        }
        return .success(String(decoding: data, as: UTF8.self))
    }

    struct BacktestFormError: Error { let message: String }

    /// A `YYYY-MM-DD` as midnight UTC in epoch milliseconds.
    static func day(_ text: String?) -> Int64? {
        guard let text else { return nil }
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: DateComponents(year: year, month: month, day: day)),
              calendar.component(.day, from: date) == day else { return nil }
        return Int64(date.timeIntervalSince1970) * 1000
    }

    /// One run: its state, its metrics and its equity curve.
    static func run(_ run: [String: Any], equity: [[String: Any]], session: ConsoleSession) -> String {
        let id = run["run_id"] as? String ?? ""
        var html = "<h1>Backtest</h1><section id=\"run\"><dl>"
        html += "<dt>Run</dt><dd>\(HTML.escape(id))</dd><dt>Status</dt><dd id=\"run-status\">\(status(run))</dd>"
        html += "<dt>Strategy</dt><dd>\(OverviewPage.text(run["strategy"]))</dd>"
        html += "<dt>Market</dt><dd>\(OverviewPage.text(run["symbol"])) \(OverviewPage.text(run["interval"]))</dd>"
        html += "<dt>Range</dt><dd>\(OverviewPage.text(run["from_time"])) to \(OverviewPage.text(run["to_time"]))</dd>"
        html += "<dt>By</dt><dd>\(OverviewPage.text(run["requested_by"]))</dd>"
        if let error = run["error"] as? String { html += "<dt>Error</dt><dd class=\"error\">\(HTML.escape(error))</dd>" }
        html += "</dl></section>"
        if let summary = run["summary"] as? [String: Any] {
            html += "<section id=\"metrics\"><h2>Metrics</h2><dl>" + summary.sorted { $0.key < $1.key }.compactMap { key, value in
                value is [Any] || value is [String: Any] ? nil : "<dt>\(HTML.escape(key.replacingOccurrences(of: "_", with: " ")))</dt><dd>\(OverviewPage.text(value))</dd>"
            }.joined() + "</dl></section>"
        }
        html += "<section id=\"equity-chart\"><h2>Equity</h2>"
        html += EquityChart.svg([("", series(equity))]) + "</section>"
        return html
    }

    /// Two runs' equity, each as a multiple of its start, on one chart, and their metrics side by side.
    static func compare(_ runs: [([String: Any], [[String: Any]])]) -> String {
        var html = "<h1>Compare backtests</h1><section id=\"comparison\">"
        let names = runs.map { run, _ in "\(run["strategy"] as? String ?? "?") \((run["run_id"] as? String ?? "").prefix(8))" }
        html += EquityChart.svg(zip(names, runs.map { series($0.1) }).map { name, points in
            guard let first = points.first, first > 0 else { return (name, points) }
            return (name, points.map { $0 / first })
        })
        let keys = Set(runs.flatMap { (($0.0["summary"] as? [String: Any]) ?? [:]).filter { !($0.value is [Any] || $0.value is [String: Any]) }.keys }).sorted()
        html += HTML.table(["Metric"] + names, keys.map { key in
            [HTML.escape(key.replacingOccurrences(of: "_", with: " "))] + runs.map { OverviewPage.text(($0.0["summary"] as? [String: Any])?[key]) }
        }, empty: "No metrics yet.")
        return html + "</section>"
    }

    /// Equity values to plot (a chart is a picture: doubles are fine here, never for money kept).
    static func series(_ points: [[String: Any]]) -> [Double] {
        points.compactMap { ($0["equity"] as? String).flatMap(Double.init) }
    }
}

/// A line chart as inline SVG, drawn on the server: no script, no inline style (presentation
/// attributes only), so the console's Content-Security-Policy holds.
enum EquityChart {
    static let colours = ["#0969da", "#cf222e", "#1a7f37", "#8250df"]

    /// A trade drawn on a line: at the bar it happened in (`index`), at its price.
    struct Marker {
        let index: Int
        let value: Double
        let isBuy: Bool
    }

    static func svg(_ lines: [(name: String, values: [Double])], markers: [Marker] = [], width: Int = 800, height: Int = 260) -> String {
        let all = lines.flatMap(\.values) + markers.map(\.value)
        guard let low = all.min(), let high = all.max(), lines.contains(where: { $0.values.count > 1 }) else {
            return "<p class=\"empty\">No equity points yet.</p>"
        }
        let (left, right, top, bottom) = (64.0, 8.0, 8.0, 24.0)
        let span = high > low ? high - low : max(abs(high), 1) * 0.01
        let plotWidth = Double(width) - left - right, plotHeight = Double(height) - top - bottom
        var svg = "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"equity chart\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (fraction, value) in [(0.0, high), (0.5, (high + low) / 2), (1.0, low)] {
            let y = top + fraction * plotHeight
            svg += "<line x1=\"\(left)\" x2=\"\(Double(width) - right)\" y1=\"\(format(y))\" y2=\"\(format(y))\" stroke=\"#d0d7de\" stroke-width=\"1\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(format(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"currentColor\">\(label(value))</text>"
        }
        func y(_ value: Double) -> Double { top + (high - value) / span * plotHeight }
        for (index, line) in lines.enumerated() where line.values.count > 1 {
            let step = plotWidth / Double(line.values.count - 1)
            let points = line.values.enumerated().map { offset, value in
                "\(format(left + Double(offset) * step)),\(format(y(value)))"
            }.joined(separator: " ")
            let colour = colours[index % colours.count]
            svg += "<polyline class=\"series\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            if !line.name.isEmpty {
                svg += "<text x=\"\(format(left + 8 + Double(index) * 220))\" y=\"\(height - 6)\" font-size=\"12\" fill=\"\(colour)\">\(HTML.escape(line.name))</text>"
            }
        }
        if let count = lines.first?.values.count, count > 1 {
            let step = plotWidth / Double(count - 1)
            for marker in markers where (0..<count).contains(marker.index) {
                // Buys point up in green, sells down in red.
                let (x, at) = (left + Double(marker.index) * step, y(marker.value))
                let points = marker.isBuy ? "\(format(x)),\(format(at - 6)) \(format(x - 5)),\(format(at + 4)) \(format(x + 5)),\(format(at + 4))"
                    : "\(format(x)),\(format(at + 6)) \(format(x - 5)),\(format(at - 4)) \(format(x + 5)),\(format(at - 4))"
                svg += "<polygon class=\"\(marker.isBuy ? "buy" : "sell")\" points=\"\(points)\" fill=\"\(marker.isBuy ? "#1a7f37" : "#cf222e")\"/>"
            }
        }
        return svg + "</svg>"
    }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    static func label(_ value: Double) -> String { abs(value) >= 100 ? String(format: "%.0f", value) : String(format: "%.3f", value) }
}
