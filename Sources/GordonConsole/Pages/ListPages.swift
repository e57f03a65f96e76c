import Foundation
import GordonDomain
import Hummingbird

/// The console's pages besides the overview, each from one or two calls to the manager: the
/// bots (with their actions for an operator), orders and fills (filtered by bot, longer
/// pages on request) and the market data's freshness.
enum ConsolePage: String, CaseIterable, Sendable {
    case bots, orders, fills, data, backtests, audit

    var path: String { "/" + rawValue }

    var title: String {
        switch self {
        case .bots: "Bots"
        case .orders: "Orders"
        case .fills: "Fills"
        case .data: "Market data"
        case .backtests: "Backtests"
        case .audit: "Audit log"
        }
    }

    static let pageSizes = [50, 200, 1000]

    /// The page's main section, also what its live updates fetch.
    func body(_ query: [String: String], session: ConsoleSession, manager: ManagerClient) async throws(ManagerClient.Failure) -> String {
        switch self {
        case .bots:
            let bots = try await manager.get("bots", as: session.user) as? [[String: Any]] ?? []
            let positions = try await manager.get("positions", as: session.user) as? [[String: Any]] ?? []
            var charts: [String: String] = [:]
            for bot in bots {
                guard let id = bot["bot_id"] as? String, let symbol = (bot["symbols"] as? [String])?.first, let interval = bot["interval"] as? String,
                      (try? BotId(id)) != nil, (try? Symbol(symbol)) != nil, Interval(rawValue: interval) != nil else { continue }
                let klines = try await manager.get("klines?symbol=\(symbol)&interval=\(interval)&limit=200", as: session.user) as? [[String: Any]] ?? []
                let fills = try await manager.get("fills?bot=\(id)&limit=200", as: session.user) as? [[String: Any]] ?? []
                charts[id] = Self.tradesChart(klines: klines, fills: fills)
            }
            return Self.bots(bots, positions: positions, session: session, charts: charts)
        case .orders, .fills:
            let (bot, limit) = try Self.filter(query)
            var path = rawValue + "?limit=\(limit)"
            if let bot { path += "&bot=\(bot)" }
            let rows = try await manager.get(path, as: session.user) as? [[String: Any]] ?? []
            return trades(rows, bot: bot, limit: limit)
        case .data:
            let status = try await manager.get("data", as: session.user) as? [String: Any] ?? [:]
            return Self.marketData(status)
        case .backtests:
            let runs = try await manager.get("backtests?limit=50", as: session.user) as? [[String: Any]] ?? []
            return BacktestPages.list(runs, session: session)
        case .audit:
            let (_, limit) = try Self.filter(query)
            let entries = try await manager.get("audit?limit=\(limit)", as: session.user) as? [[String: Any]] ?? []
            return Self.audit(entries, limit: limit)
        }
    }

    /// Where the page's live updates come from: the same page and query under `/live`.
    func liveURL(_ query: [String: String]) -> String {
        let (bot, limit): (String?, Int) = (try? Self.filter(query)) ?? (nil, Self.pageSizes[0])
        guard self == .orders || self == .fills || self == .audit else { return "/live" + path }
        return "/live" + path + "?limit=\(limit)" + (bot.map { "&bot=\($0)" } ?? "")
    }

    /// `?bot=` (a bot id or empty) and `?limit=` (one of the page sizes); anything else is the
    /// caller's mistake, said plainly.
    static func filter(_ query: [String: String]) throws(ManagerClient.Failure) -> (bot: String?, limit: Int) {
        var bot: String?
        if let text = query["bot"], !text.isEmpty {
            guard (try? BotId(text)) != nil else { throw ManagerClient.Failure(status: 400, code: nil, message: "'\(text)' is not a bot id") }
            bot = text
        }
        var limit = pageSizes[0]
        if let text = query["limit"] {
            guard let value = Int(text), pageSizes.contains(value) else {
                throw ManagerClient.Failure(status: 400, code: nil, message: "limit must be one of \(pageSizes.map(String.init).joined(separator: ", "))")
            }
            limit = value
        }
        return (bot, limit)
    }

    /// The bot's market, its last closes, with its fills marked at the bar they fell in.
    static func tradesChart(klines: [[String: Any]], fills: [[String: Any]]) -> String {
        let closes = klines.compactMap { ($0["close"] as? String).flatMap(Double.init) }
        guard closes.count == klines.count else { return "<p class=\"empty\">The market's prices are unreadable.</p>" }
        let bars = klines.map { (open: Timestamps.date($0["open_time"]), close: Timestamps.date($0["close_time"])) }
        // A fill outside every bar shown (older, or newer than the last close) is left out.
        let markers: [EquityChart.Marker] = fills.compactMap { fill in
            guard let time = Timestamps.date(fill["trade_time"]), let price = (fill["price"] as? String).flatMap(Double.init),
                  let index = bars.firstIndex(where: { bar in
                      guard let open = bar.open, let close = bar.close else { return false }
                      return open <= time && time <= close
                  }) else { return nil }
            return EquityChart.Marker(index: index, value: price, isBuy: (fill["side"] as? String) == "BUY")
        }
        return "<div class=\"trades-chart\">" + EquityChart.svg([("", closes)], markers: markers, height: 200) + "</div>"
    }

    static func bots(_ bots: [[String: Any]], positions: [[String: Any]], session: ConsoleSession, charts: [String: String] = [:]) -> String {
        var html = "<h1>Bots</h1>"
        if bots.isEmpty { return html + "<p class=\"empty\">No bots.</p>" }
        for bot in bots {
            let id = bot["bot_id"] as? String ?? ""
            let state = bot["desired_state"] as? String ?? ""
            html += "<section class=\"bot\" id=\"bot-\(HTML.escape(id))\"><h2>\(HTML.escape(id))</h2><dl>"
            html += "<dt>Strategy</dt><dd>\(OverviewPage.text(bot["strategy"])) \(HTML.escape(parameters(bot["parameters"])))</dd>"
            html += "<dt>Market</dt><dd>\(HTML.escape((bot["symbols"] as? [String] ?? []).joined(separator: " "))) \(OverviewPage.text(bot["interval"]))</dd>"
            html += "<dt>State</dt><dd class=\"state\">\(HTML.escape(state))</dd>"
            let live = bot["lease_live"] as? Bool ?? false
            html += "<dt>Process</dt><dd>\(live ? "<span class=\"ready\">running</span> on \(OverviewPage.text(bot["lease_host"]))" : "<span class=\"down\">not running</span>")</dd>"
            html += "<dt>Allocation</dt><dd>\(OverviewPage.money(bot["max_quote_exposure"])) USDT</dd></dl>"
            let held = positions.filter { $0["bot_id"] as? String == id }
            html += HTML.table(["Symbol", "Quantity", "Entry", "Last", "Unrealized", "Realized"], held.map { row in
                [OverviewPage.text(row["symbol"]), OverviewPage.text(row["quantity"]), OverviewPage.text(row["average_entry_price"]),
                 OverviewPage.text(row["last_price"]), OverviewPage.money(row["unrealized_pnl"]), OverviewPage.money(row["realized_pnl"])]
            }, empty: "No position.")
            html += charts[id] ?? ""
            html += "<p><a href=\"/orders?bot=\(HTML.escape(id))\">Orders</a> · <a href=\"/fills?bot=\(HTML.escape(id))\">Fills</a></p>"
            if session.role == .operator {
                // A running bot can be paused (by risk) or stopped; a paused one resumed or stopped; a stopped one started.
                let verbs: [String] = switch state {
                case "running": ["pause", "stop"]
                case "paused": ["resume", "stop"]
                default: ["start"]
                }
                html += "<div class=\"actions\">" + verbs.compactMap { ConsoleAction.bot(id, $0) }.map(ConsoleAction.button).joined() + "</div>"
            }
            html += "</section>"
        }
        return html
    }

    func trades(_ rows: [[String: Any]], bot: String?, limit: Int) -> String {
        var html = "<h1>\(title)</h1><form class=\"filter\" method=\"get\" action=\"\(path)\">"
        html += "<label>Bot <input type=\"text\" name=\"bot\" value=\"\(HTML.escape(bot ?? ""))\" pattern=\"[a-z0-9][a-z0-9_\\-]*\" placeholder=\"every bot\"></label>"
        html += "<label>Rows <select name=\"limit\">" + Self.pageSizes.map {
            "<option value=\"\($0)\"\($0 == limit ? " selected" : "")>\($0)</option>"
        }.joined() + "</select></label><button type=\"submit\">Show</button></form>"
        let t = OverviewPage.text
        if self == .orders {
            html += HTML.table(["Created", "Bot", "Symbol", "Side", "Type", "Price", "Quantity", "Executed", "Status", "Reason", "Client id"], rows.map { o in
                [t(o["created_at"]), t(o["bot_id"]), t(o["symbol"]), t(o["side"]), t(o["order_type"]), t(o["price"]), t(o["quantity"]),
                 t(o["executed_quantity"]), t(o["status"]), t(o["reject_reason"]), t(o["client_order_id"])]
            }, empty: "No orders.")
        } else {
            html += HTML.table(["Time", "Bot", "Symbol", "Side", "Price", "Quantity", "Commission", "Trade id", "Client id"], rows.map { f in
                [t(f["trade_time"]), t(f["bot_id"]), t(f["symbol"]), t(f["side"]), t(f["price"]), t(f["quantity"]),
                 t(f["commission"]) + " " + t(f["commission_asset"]), t(f["trade_id"]), t(f["client_order_id"])]
            }, empty: "No fills.")
        }
        if rows.count == limit, let next = Self.pageSizes.first(where: { $0 > limit }) {
            var query = "limit=\(next)"
            if let bot { query += "&bot=\(HTML.escape(bot))" }
            html += "<p><a id=\"more\" href=\"\(path)?\(query)\">Show \(next)</a></p>"
        }
        return html
    }

    /// Who halted, resumed, flattened or paused, and why: risk's audit log, newest first.
    static func audit(_ entries: [[String: Any]], limit: Int) -> String {
        let t = OverviewPage.text
        var html = "<h1>Audit log</h1>" + HTML.table(["When", "Who", "Action", "Target", "Why"], entries.map { e in
            [t(e["occurred_at"]), t(e["actor"]), t(e["action"]), t(e["target"]), t(e["reason"])]
        }, empty: "Nothing recorded yet.")
        if entries.count == limit, let next = pageSizes.first(where: { $0 > limit }) {
            html += "<p><a id=\"more\" href=\"/audit?limit=\(next)\">Show \(next)</a></p>"
        }
        return html
    }

    static func marketData(_ status: [String: Any]) -> String {
        let t = OverviewPage.text
        var html = "<h1>Market data</h1><section id=\"klines\"><h2>Klines</h2>"
        html += HTML.table(["Symbol", "Interval", "Klines", "First open", "Last open", "Behind", "Missing", "Last ingested"],
                           (status["klines"] as? [[String: Any]] ?? []).map { k in
            let behind = (k["seconds_behind"] as? NSNumber)?.intValue
            let stale = behind.map { $0 > 180 } ?? true
            return [t(k["symbol"]), t(k["interval"]), t(k["klines"]), t(k["first_open"]), t(k["last_open"]),
                    "<span class=\"\(stale ? "down" : "ready")\">\(behind.map { "\($0) s" } ?? "–")</span>", t(k["missing"]), t(k["last_ingested_at"])]
        }, empty: "No klines stored yet.")
        html += "</section><section id=\"metrics\"><h2>Other series</h2>"
        html += HTML.table(["Series", "Observations", "Last observed", "Source"], (status["metrics"] as? [[String: Any]] ?? []).map { m in
            [t(m["name"]), t(m["observations"]), t(m["last_observed_at"]), t(m["source"])]
        }, empty: "No other series stored yet.")
        return html + "</section>"
    }

    static func parameters(_ value: Any?) -> String {
        guard let object = value as? [String: Any] else { return "" }
        return object.sorted { $0.key < $1.key }.map { "\($0.key)=\(($0.value as? NSNumber)?.stringValue ?? "\($0.value)")" }.joined(separator: " ")
    }
}

/// PostgreSQL's JSON timestamps (`2026-12-08T00:05:37.349239+00:00`) as dates.
enum Timestamps {
    static func date(_ value: Any?) -> Date? {
        guard let text = value as? String, text.utf8.count >= 20 else { return nil }
        let characters = Array(text)
        func number(_ range: Range<Int>) -> Int? { Int(String(characters[range])) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var rest = characters[19...]
        var fraction = 0.0
        if rest.first == "." {
            let digits = rest.dropFirst().prefix { $0.isNumber }
            fraction = Double("0." + String(digits)) ?? 0
            rest = rest.dropFirst(1 + digits.count)
        }
        var offset = 0
        if let sign = rest.first, sign == "+" || sign == "-" {
            let parts = String(rest.dropFirst()).split(separator: ":").compactMap { Int($0) }
            guard let hours = parts.first else { return nil }
            offset = (sign == "-" ? -1 : 1) * (hours * 3600 + (parts.count > 1 ? parts[1] * 60 : 0))
        } else if rest.first != "Z" {
            return nil
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let base = calendar.date(from: DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
        else { return nil }
        return base.addingTimeInterval(fraction - Double(offset))
    }
}
