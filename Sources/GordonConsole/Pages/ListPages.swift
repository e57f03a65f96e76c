import Foundation
import GordonDomain
import Hummingbird

/// The console's pages besides the overview, each from one or two calls to the manager: the
/// bots (with their actions for an operator), orders and fills (filtered by bot, longer
/// pages on request) and the market data's freshness.
enum ConsolePage: String, CaseIterable, Sendable {
    case bots, orders, fills, data, backtests

    var path: String { "/" + rawValue }

    var title: String {
        switch self {
        case .bots: "Bots"
        case .orders: "Orders"
        case .fills: "Fills"
        case .data: "Market data"
        case .backtests: "Backtests"
        }
    }

    static let pageSizes = [50, 200, 1000]

    /// The page's main section, also what its live updates fetch.
    func body(_ query: [String: String], session: ConsoleSession, manager: ManagerClient) async throws(ManagerClient.Failure) -> String {
        switch self {
        case .bots:
            let bots = try await manager.get("bots", as: session.user) as? [[String: Any]] ?? []
            let positions = try await manager.get("positions", as: session.user) as? [[String: Any]] ?? []
            return Self.bots(bots, positions: positions, session: session)
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
        }
    }

    /// Where the page's live updates come from: the same page and query under `/live`.
    func liveURL(_ query: [String: String]) -> String {
        let (bot, limit): (String?, Int) = (try? Self.filter(query)) ?? (nil, Self.pageSizes[0])
        guard self == .orders || self == .fills else { return "/live" + path }
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

    static func bots(_ bots: [[String: Any]], positions: [[String: Any]], session: ConsoleSession) -> String {
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
