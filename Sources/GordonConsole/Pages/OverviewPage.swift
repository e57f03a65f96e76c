import Foundation

/// The overview: the halt latch (with halt or resume for an operator), the breakers with
/// their limits, equity and today's P&L, positions, bots, service health and the last backup,
/// from one call to the manager's `/api/v1/status`.
enum OverviewPage {
    static func render(status: Any, session: ConsoleSession) -> String {
        HTML.page(title: "Overview", session: session, body: body(status: status, session: session), live: "/live/overview")
    }

    /// The page's main section, also what its live updates fetch.
    static func body(status: Any, session: ConsoleSession) -> String {
        let status = status as? [String: Any] ?? [:]
        let trading = status["trading"] as? [String: Any] ?? [:]
        var body = "<h1>Overview</h1><div class=\"grid\">"
        body += latch(trading["halt"] as? [String: Any], session: session)
        body += equity(status["equity"] as? [String: Any], trading: trading)
        body += breakers(trading["risk"] as? [String: Any], last: trading["last_breaker_event"] as? [String: Any])
        body += backup(status["watchdog"] as? [String: Any])
        body += "</div>"
        body += positions(status["positions"] as? [[String: Any]] ?? [])
        body += bots(status["bots"] as? [[String: Any]] ?? [])
        body += services(status["services"] as? [[String: Any]] ?? [])
        return body
    }

    static func latch(_ halt: [String: Any]?, session: ConsoleSession) -> String {
        let halted = halt?["halted"] as? Bool ?? true
        var html = "<section id=\"latch\"><h2>Halt latch</h2>"
        html += halted ? "<p class=\"latch halted\">HALTED</p>" : "<p class=\"latch open\">OPEN: trading</p>"
        html += "<dl><dt>Reason</dt><dd>\(text(halt?["reason"]))</dd><dt>By</dt><dd>\(text(halt?["changed_by"]))</dd>"
        html += "<dt>At</dt><dd>\(text(halt?["changed_at"]))</dd></dl>"
        if session.role == .operator {
            html += "<div class=\"actions\">" + ConsoleAction.button(.system(halted ? "resume" : "halt")!)
                + ConsoleAction.button(.system("flatten")!) + "</div>"
        }
        return html + "</section>"
    }

    static func equity(_ equity: [String: Any]?, trading: [String: Any]) -> String {
        var html = "<section id=\"equity\"><h2>Equity</h2><dl>"
        html += "<dt>Equity</dt><dd>\(money(equity?["equity"])) USDT</dd>"
        html += "<dt>Peak</dt><dd>\(money(equity?["peak_equity"]))</dd>"
        html += "<dt>Today's P&amp;L</dt><dd id=\"pnl-today\">\(difference(equity?["equity"], equity?["day_opening_equity"]))</dd>"
        html += "<dt>Open orders</dt><dd>\(text(trading["open_orders"]))</dd>"
        html += "<dt>Pending requests</dt><dd>\(text(trading["pending_requests"]))</dd>"
        html += "<dt>As of</dt><dd>\(text(equity?["at"]))</dd>"
        return html + "</dl></section>"
    }

    static func breakers(_ risk: [String: Any]?, last: [String: Any]?) -> String {
        let tripped = risk?["tripped"] as? [String] ?? []
        var html = "<section id=\"breakers\"><h2>Circuit breakers</h2>"
        html += tripped.isEmpty ? "<p class=\"ready\">None tripped</p>"
            : "<p class=\"tripped\">Tripped: \(HTML.escape(tripped.joined(separator: ", ")))</p>"
        let limits = (risk?["limits"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }
        html += "<dl>" + limits.map { "<dt>\(HTML.escape($0.key.replacingOccurrences(of: "_", with: " ")))</dt><dd>\(text($0.value))</dd>" }.joined()
        html += "<dt>day opening equity</dt><dd>\(money(risk?["day_opening_equity"]))</dd></dl>"
        if let last {
            html += "<p class=\"muted\">Last: \(text(last["breaker"])) \(text(last["state"])) at \(text(last["occurred_at"])): \(text(last["reason"]))</p>"
        }
        return html + "</section>"
    }

    static func backup(_ watchdog: [String: Any]?) -> String {
        let backup = watchdog?["backup"] as? [String: Any]
        var html = "<section id=\"backup\"><h2>Watchdog and backup</h2><dl>"
        html += "<dt>Watchdog</dt><dd>\(text(watchdog?["phase"])) (\(text(watchdog?["reason"])))</dd>"
        html += "<dt>Last backup</dt><dd>\(text(backup?["lastResult"]))\(backup?["lastAt"].map { " at " + text($0) } ?? "")</dd>"
        return html + "</dl></section>"
    }

    static func positions(_ rows: [[String: Any]]) -> String {
        "<section id=\"positions\"><h2>Positions</h2>" + HTML.table(
            ["Bot", "Symbol", "Quantity", "Entry", "Last", "Unrealized", "Realized"],
            rows.map { row in
                [text(row["bot_id"]), text(row["symbol"])] + ["quantity", "average_entry_price", "last_price"].map { text(row[$0]) }
                    + ["unrealized_pnl", "realized_pnl"].map { money(row[$0]) }
            }, empty: "No positions.") + "</section>"
    }

    static func bots(_ rows: [[String: Any]]) -> String {
        "<section id=\"bots\"><h2>Bots</h2>" + HTML.table(
            ["Bot", "Strategy", "Symbols", "State", "Running"],
            rows.map { row in
                [text(row["bot_id"]), text(row["strategy"]), HTML.escape((row["symbols"] as? [String] ?? []).joined(separator: " ")),
                 text(row["desired_state"]), (row["lease_live"] as? Bool ?? false) ? "<span class=\"ready\">yes</span>" : "<span class=\"down\">no</span>"]
            }, empty: "No bots.") + "</section>"
    }

    static func services(_ rows: [[String: Any]]) -> String {
        "<section id=\"services\"><h2>Services</h2>" + HTML.table(
            ["Service", "Ready", "Checks"],
            rows.map { row in
                let ready = row["ready"] as? Bool ?? false
                let checks = ((row["readyz"] as? [String: Any])?["checks"] as? [String: Any] ?? [:]).sorted { $0.key < $1.key }
                    .map { "\($0.key): \(text($0.value))" }.joined(separator: ", ")
                return [text(row["name"]), ready ? "<span class=\"ready\">ready</span>" : "<span class=\"down\">not ready</span>",
                        checks.isEmpty ? text(row["error"]) : checks]
            }, empty: "No services reported.") + "</section>"
    }

    /// A JSON value as escaped text; absent or null as a dash.
    static func text(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: return "–"
        case let string as String: return HTML.escape(string)
        case let number as NSNumber: return HTML.escape(number.stringValue)
        default: return HTML.escape("\(value!)")
        }
    }

    /// a − b for two decimal strings, exactly (the manager sends money as text), shown to the cent.
    static func difference(_ a: Any?, _ b: Any?) -> String {
        guard let a = (a as? String).flatMap({ Decimal(string: $0) }), let b = (b as? String).flatMap({ Decimal(string: $0) }) else {
            return "–"
        }
        let value = a - b
        return (value > 0 ? "+" : "") + cents(value)
    }

    /// An amount of the quote currency as people read it: to the cent, rounded half up. The
    /// exact figure stays in the manager's API and gordonctl.
    static func money(_ value: Any?) -> String {
        guard let amount = (value as? String).flatMap({ Decimal(string: $0) }) else { return text(value) }
        return cents(amount)
    }

    private static func cents(_ value: Decimal) -> String {
        var exact = value
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 2, .plain)
        return HTML.escape("\(rounded)")
    }
}
