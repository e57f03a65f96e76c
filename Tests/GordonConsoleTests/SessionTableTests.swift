import Foundation
@testable import GordonConsole
import GordonStrategy
import GordonKernel
import Testing

/// The console's session rules as a plain value, on a clock the test turns.
@Suite struct SessionTableTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    func login(at time: Date) -> PendingLogin { PendingLogin.start(returnTo: "/", now: time) }

    @Test func aSessionIsFoundByItsIdAndNoOther() {
        var table = SessionTable()
        let (id, opened) = table.open(subject: "s-1", user: "olga", role: .operator, now: start)
        #expect(table.session(id: id, now: start)?.user == "olga")
        #expect(table.session(id: id, now: start)?.csrfToken == opened.csrfToken)
        // Another session's id, a made-up one, an empty one: nothing.
        let (other, _) = table.open(subject: "s-2", user: "vera", role: .viewer, now: start)
        #expect(table.session(id: other, now: start)?.user == "vera")
        #expect(table.session(id: PendingLogin.randomToken(), now: start) == nil)
        #expect(table.session(id: "", now: start) == nil)
        #expect(table.session(id: String(id.dropLast()), now: start) == nil)
        // Two sessions never share a CSRF token.
        #expect(table.session(id: other, now: start)?.csrfToken != opened.csrfToken)
    }

    @Test func anIdleSessionEndsAndUseKeepsItOpen() {
        var table = SessionTable()
        let idle = table.limits.idleTimeout
        let (id, _) = table.open(subject: "s", user: "olga", role: .operator, now: start)
        // Used just before each idle period ends, it stays open past several of them.
        var now = start
        for _ in 0..<4 {
            now += idle - 1
            #expect(table.session(id: id, now: now) != nil)
        }
        // Unused for the idle time: over, and over for good.
        #expect(table.session(id: id, now: now + idle) == nil)
        #expect(table.session(id: id, now: now + 1) == nil)
    }

    @Test func aSessionEndsAtItsAbsoluteTimeoutHoweverBusy() {
        var limits = SessionTable.Limits()
        limits.idleTimeout = 600
        limits.absoluteTimeout = 3600
        var table = SessionTable(limits: limits)
        let (id, _) = table.open(subject: "s", user: "olga", role: .operator, now: start)
        var now = start
        while now < start + 3600 - 300 {
            now += 300
            #expect(table.session(id: id, now: now) != nil)
        }
        #expect(table.session(id: id, now: start + 3600) == nil)
    }

    @Test func logoutMakesTheIdWorthless() {
        var table = SessionTable()
        let (id, _) = table.open(subject: "s", user: "olga", role: .operator, now: start)
        table.close(id: id)
        #expect(table.session(id: id, now: start) == nil)
        #expect(table.sessionCount == 0)
    }

    @Test func aLoginFinishesOnceAndOnlyInTime() {
        var table = SessionTable()
        let first = login(at: start)
        #expect(table.begin(first, client: "192.0.2.1", now: start) == .started)
        #expect(table.finish(state: first.state, now: start + 5) == first)
        // The same state again (a replayed callback): nothing.
        #expect(table.finish(state: first.state, now: start + 6) == nil)
        // A state nobody started: nothing.
        #expect(table.finish(state: PendingLogin.randomToken(), now: start) == nil)
        // Too late.
        let slow = login(at: start)
        #expect(table.begin(slow, client: "192.0.2.1", now: start) == .started)
        #expect(table.finish(state: slow.state, now: start + table.limits.loginTimeout) == nil)
    }

    @Test func loginsAreRateLimitedPerClient() {
        var table = SessionTable()
        let limit = table.limits.loginsPerMinutePerClient
        for index in 0..<limit {
            #expect(table.begin(login(at: start), client: "192.0.2.1", now: start + Double(index)) == .started)
        }
        #expect(table.begin(login(at: start), client: "192.0.2.1", now: start + 30) == .tooMany)
        // Another client is not held back by the first.
        #expect(table.begin(login(at: start), client: "192.0.2.2", now: start + 30) == .started)
        // A minute after the window began, the first may start again.
        #expect(table.begin(login(at: start), client: "192.0.2.1", now: start + 60) == .started)
    }

    @Test func strangersCannotMakeTheConsoleHoldUnboundedLogins() {
        var limits = SessionTable.Limits()
        limits.maximumPendingLogins = 5
        limits.loginsPerMinutePerClient = 100
        var table = SessionTable(limits: limits)
        for index in 0..<5 {
            #expect(table.begin(login(at: start), client: "192.0.2.\(index)", now: start) == .started)
        }
        #expect(table.begin(login(at: start), client: "192.0.2.9", now: start) == .tooMany)
        // Once the abandoned ones expire there is room again.
        let later = start + limits.loginTimeout
        #expect(table.begin(login(at: later), client: "192.0.2.9", now: later) == .started)
    }

    @Test func aFullTableClosesTheLeastRecentlyUsedSession() {
        var limits = SessionTable.Limits()
        limits.maximumSessions = 2
        var table = SessionTable(limits: limits)
        let (a, _) = table.open(subject: "a", user: "a", role: .viewer, now: start)
        let (b, _) = table.open(subject: "b", user: "b", role: .viewer, now: start + 1)
        _ = table.session(id: a, now: start + 2)
        let (c, _) = table.open(subject: "c", user: "c", role: .viewer, now: start + 3)
        #expect(table.session(id: a, now: start + 4) != nil)
        #expect(table.session(id: b, now: start + 4) == nil)
        #expect(table.session(id: c, now: start + 4) != nil)
    }
}

/// The console's small parsers: forms, names for the audit log, origins, HTML escaping and the
/// token endpoint's answer.
@Suite struct ConsoleFormTests {
    @Test func formsDecodePlusAndPercentAndKeepEqualsInValues() {
        let form = ConsoleRoutes.parseForm("csrf=a%2Bb%3D&reason=market+is+on+fire%21&empty=&novalue&reason2=x=y")
        #expect(form["csrf"] == "a+b=")
        #expect(form["reason"] == "market is on fire!")
        #expect(form["empty"] == "")
        #expect(form["novalue"] == "")
        #expect(form["reason2"] == "x=y")
        #expect(ConsoleRoutes.parseForm("bad=%ZZ")["bad"] == nil)
    }

    @Test func theAuditNameIsTheFirstUsableOfUsernameEmailSubject() {
        func claims(_ name: String, _ email: String?, _ subject: String) -> IDTokenClaims {
            IDTokenClaims(subject: subject, displayName: name, email: email, groups: [], expiresAt: Date())
        }
        #expect(ConsoleRoutes.operatorName(claims("olga", "olga@example.com", "1")) == "olga")
        #expect(ConsoleRoutes.operatorName(claims("Olga Ö", "olga@example.com", "1")) == "olga@example.com")
        #expect(ConsoleRoutes.operatorName(claims("o l", nil, "a1b2-c3")) == "a1b2-c3")
        #expect(ConsoleRoutes.operatorName(claims("o l", "x y", String(repeating: "s", count: 57))) == nil)
        #expect(ConsoleRoutes.operatorName(claims("a\nb", "<script>", "é")) == nil)
    }

    @Test func thePublicURLMustBeAnOriginOnly() {
        #expect(ConsoleRoutes.origin(of: "https://gordon.lan:3000") == "https://gordon.lan:3000")
        #expect(ConsoleRoutes.origin(of: "http://127.0.0.1:3000/") == "http://127.0.0.1:3000")
        #expect(ConsoleRoutes.origin(of: "https://gordon.lan/console") == nil)
        #expect(ConsoleRoutes.origin(of: "ftp://gordon.lan") == nil)
        #expect(ConsoleRoutes.origin(of: "gordon.lan:3000") == nil)
        #expect(ConsoleRoutes.origin(of: "https://u:p@gordon.lan") == nil)
    }

    @Test func everyValueOnAPageIsEscaped() {
        #expect(HTML.escape("<script>alert('x')</script> & \"q\"") == "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;")
        let session = ConsoleSession(subject: "s", user: "<b>", role: .viewer, csrfToken: "t\"x", createdAt: Date(), lastSeenAt: Date())
        let status: [String: Any] = [
            "trading": ["halt": ["halted": true, "reason": "<img src=x onerror=alert(1)>", "changed_by": "operator:root"]],
            "positions": [["bot_id": "b<1>", "symbol": "BTCUSDT", "quantity": "0.1"]],
        ]
        let html = OverviewPage.render(status: status, session: session)
        #expect(!html.contains("<img"))
        #expect(!html.contains("<b>"))
        #expect(html.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(html.contains("value=\"t&quot;x\""))
        #expect(html.contains("b&lt;1&gt;"))
    }

    @Test func aViewerSeesNoActionAndAnOperatorSeesTheOneThatApplies() {
        func page(_ role: ConsoleRole, halted: Bool) -> String {
            let session = ConsoleSession(subject: "s", user: "u", role: role, csrfToken: "t", createdAt: Date(), lastSeenAt: Date())
            return OverviewPage.render(status: ["trading": ["halt": ["halted": halted]]], session: session)
        }
        #expect(!page(.viewer, halted: false).contains("/actions/"))
        #expect(!page(.viewer, halted: true).contains("/actions/"))
        #expect(page(.operator, halted: false).contains("action=\"/actions/halt\""))
        #expect(!page(.operator, halted: false).contains("/actions/resume"))
        #expect(page(.operator, halted: true).contains("action=\"/actions/resume\""))
        // An unreadable latch is shown as halted: the console never claims trading it cannot see.
        #expect(OverviewPage.render(status: [:], session: .init(subject: "s", user: "u", role: .viewer, csrfToken: "t",
                                                                  createdAt: Date(), lastSeenAt: Date())).contains("HALTED"))
    }

    @Test func todaysProfitIsExactDecimalArithmetic() {
        #expect(OverviewPage.difference("1000.1", "999.9") == "+0.2")
        #expect(OverviewPage.difference("0.3", "0.1") == "+0.2")
        #expect(OverviewPage.difference("999.9", "1000") == "-0.1")
        #expect(OverviewPage.difference("942.982525790901435", "992.2083289278287504") == "-49.23")
        #expect(OverviewPage.money("1120.9749623394575788") == "1120.97")
        #expect(OverviewPage.money("0.005") == "0.01")
        #expect(OverviewPage.money("-0.0006120549053138") == "0")
        #expect(OverviewPage.difference(nil, "1") == "–")
    }

    @Test func theTokenEndpointsErrorIsARefusedLogin() throws {
        #expect(try IdentityProvider.idToken(fromTokenResponse: Array(#"{"id_token":"a.b.c","access_token":"x"}"#.utf8), status: 200) == "a.b.c")
        let refused = #expect(throws: GordonError.self) {
            try IdentityProvider.idToken(fromTokenResponse: Array(#"{"error":"invalid_grant","error_description":"code used"}"#.utf8), status: 400)
        }
        #expect(refused?.code == .loginRefused)
        #expect(refused?.message.contains("invalid_grant") == true)
        let missing = #expect(throws: GordonError.self) {
            try IdentityProvider.idToken(fromTokenResponse: Array(#"{"access_token":"x"}"#.utf8), status: 200)
        }
        #expect(missing?.code == .identityProviderInvalid)
    }
}

/// The actions an operator can reach and the pages' filters: nothing outside the known verbs
/// and bot ids becomes a path to the manager.
@Suite struct ConsoleActionTests {
    @Test func onlyKnownVerbsAndBotIdsMakeAnAction() {
        #expect(ConsoleAction.system("halt")?.managerPath == "halt")
        #expect(ConsoleAction.system("flatten")?.formPath == "/actions/flatten")
        #expect(ConsoleAction.system("pause") == nil)
        #expect(ConsoleAction.system("backup/restore") == nil)
        #expect(ConsoleAction.bot("s1", "pause")?.managerPath == "bots/s1/pause")
        #expect(ConsoleAction.bot("s1", "stop")?.formPath == "/bots/s1/actions/stop")
        #expect(ConsoleAction.bot("s1", "halt") == nil)
        for bad in ["", "../halt", "S1", "a b", "a/b", "-x", "a%2Fb", String(repeating: "a", count: 64)] {
            #expect(ConsoleAction.bot(bad, "pause") == nil, "bot id \(bad)")
        }
    }

    @Test func aBotOffersTheActionsItsStateAllows() {
        let operatorSession = ConsoleSession(subject: "s", user: "o", role: .operator, csrfToken: "t", createdAt: Date(), lastSeenAt: Date())
        func page(_ state: String, _ session: ConsoleSession = operatorSession) -> String {
            ConsolePage.bots([["bot_id": "b1", "desired_state": state]], positions: [], session: session)
        }
        #expect(page("running").contains("id=\"pause-b1\"") && page("running").contains("id=\"stop-b1\""))
        #expect(!page("running").contains("id=\"start-b1\""))
        #expect(page("paused").contains("id=\"resume-b1\"") && !page("paused").contains("id=\"pause-b1\""))
        #expect(page("stopped").contains("id=\"start-b1\"") && !page("stopped").contains("id=\"stop-b1\""))
        let viewer = ConsoleSession(subject: "s", user: "v", role: .viewer, csrfToken: "t", createdAt: Date(), lastSeenAt: Date())
        #expect(!page("running", viewer).contains("/actions/"))
    }

    @Test func aListsFilterIsABotIdAndAPageSize() throws {
        #expect(try ConsolePage.filter([:]) == (nil, 50))
        #expect(try ConsolePage.filter(["bot": "s1", "limit": "200"]) == ("s1", 200))
        #expect(try ConsolePage.filter(["bot": ""]) == (nil, 50))
        #expect(throws: ManagerClient.Failure.self) { try ConsolePage.filter(["bot": "x&limit=1000000"]) }
        #expect(throws: ManagerClient.Failure.self) { try ConsolePage.filter(["limit": "5000"]) }
    }
}

/// The backtest form: generated from the catalogue, checked before anything is sent.
@Suite struct BacktestFormTests {
    let session = ConsoleSession(subject: "s", user: "o", role: .operator, csrfToken: "t", createdAt: Date(), lastSeenAt: Date())

    @Test func theFormOffersEveryParameterOfEveryStrategyWithItsRange() {
        for descriptor in StrategyCatalog.all {
            let html = BacktestPages.form(strategy: descriptor.name, session: session)
            #expect(html.contains("name=\"strategy\" value=\"\(descriptor.name)\""))
            for spec in descriptor.parameters {
                #expect(html.contains("name=\"p.\(spec.name)\""), "\(descriptor.name).\(spec.name)")
                #expect(html.contains("min=\"\(BacktestPages.number(spec.range.lowerBound))\" max=\"\(BacktestPages.number(spec.range.upperBound))\""))
            }
        }
    }

    func form(_ changes: [String: String] = [:]) -> [String: String] {
        ["strategy": "sma_crossover", "p.fast": "5", "p.slow": "15", "symbol": "BTCUSDT", "interval": "1m",
         "from": "2024-01-01", "to": "2024-02-01", "cash": "1000", "fee": "10"].merging(changes) { $1 }
    }

    @Test func aGoodFormBecomesTheManagersRequest() throws {
        guard case .success(let body) = BacktestPages.request(from: form()) else { Issue.record("refused"); return }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect(object["from"] as? Int64 == 1_704_067_200_000)
        #expect(object["to"] as? Int64 == 1_706_745_600_000)
        #expect(object["cash"] as? String == "1000" && object["taker_fee_bps"] as? String == "10")
        let plan = object["plan"] as? [String: Any]
        let strategy = plan?["strategy"] as? [String: Any]
        #expect(strategy?["name"] as? String == "sma_crossover")
        #expect((strategy?["parameters"] as? [String: Any])?["slow"] as? Double == 15)
    }

    @Test func aBadFormSaysWhatIsWrongAndSendsNothing() {
        let cases: [([String: String], String)] = [
            (["strategy": "moonshot"], "choose a strategy"),
            (["p.fast": "abc"], "fast must be a number"),
            (["p.fast": "0"], "fast"),
            (["p.fast": "20", "p.slow": "10"], "sma_crossover"),
            (["from": "2024-02-30"], "dates"),
            (["from": "2024-03-01"], "from must be before to"),
            (["symbol": "btc/usdt"], "symbol"),
            (["interval": "7m"], "interval"),
            (["cash": "-5"], "cash"),
            (["cash": "1e9"], "cash"),
            (["fee": "500"], "fee"),
        ]
        for (change, expected) in cases {
            guard case .failure(let error) = BacktestPages.request(from: form(change)) else {
                Issue.record("\(change) was accepted")
                continue
            }
            #expect(error.message.contains(expected), "\(change): \(error.message)")
        }
    }

    @Test func theChartDrawsEachLineInsideItsBoxAndNothingForTooFewPoints() {
        #expect(EquityChart.svg([("", [])]).contains("No equity points"))
        #expect(EquityChart.svg([("", [1000])]).contains("No equity points"))
        let svg = EquityChart.svg([("a", [1000, 1100, 900]), ("b<x>", [1, 1, 1])], width: 800, height: 260)
        #expect(svg.components(separatedBy: "<polyline").count == 3)
        #expect(svg.contains("b&lt;x&gt;") && !svg.contains("<x>"))
        #expect(!svg.contains("style="))
        // Every point within the drawing area.
        let numbers = svg.components(separatedBy: "points=\"").dropFirst().flatMap {
            $0.prefix { $0 != "\"" }.split(separator: " ").map { $0.split(separator: ",").compactMap { Double($0) } }
        }
        #expect(numbers.allSatisfy { $0.count == 2 && (0...800).contains($0[0]) && (0...260).contains($0[1]) })
    }
}

/// The bot page's chart: PostgreSQL's timestamps read exactly, each fill at the bar it fell in.
@Suite struct TradesChartTests {
    @Test func postgresTimestampsInAnyOffsetAreTheSameInstant() {
        let utc = Timestamps.date("2026-12-08T00:05:37.349239+00:00")
        #expect(utc.map { abs($0.timeIntervalSince1970 - 1_796_688_337.349239) < 0.000_01 } == true)
        #expect(Timestamps.date("2026-12-08T01:05:37.349239+01:00") == utc)
        #expect(Timestamps.date("2026-12-07T19:35:37.349239-04:30") == utc)
        #expect(Timestamps.date("2026-12-08T00:05:37Z")?.timeIntervalSince1970 == 1_796_688_337)
        #expect(Timestamps.date("2026-12-08 00:05") == nil)
        #expect(Timestamps.date("not a time at all!!") == nil)
        #expect(Timestamps.date(42) == nil)
    }

    @Test func eachFillIsMarkedAtItsBarAndFillsBeforeTheChartAreLeftOut() {
        let klines: [[String: Any]] = (0..<4).map { minute in
            ["open_time": "2026-12-08T00:0\(minute):00+00:00", "close_time": "2026-12-08T00:0\(minute):59.999+00:00", "close": "\(100 + minute)"]
        }
        let fills: [[String: Any]] = [
            ["trade_time": "2026-12-08T00:01:30.5+00:00", "price": "101.5", "side": "BUY"],
            ["trade_time": "2026-12-08T00:03:59+00:00", "price": "103", "side": "SELL"],
            // Before the first bar and after the last: not on this chart.
            ["trade_time": "2026-12-07T23:59:00+00:00", "price": "99", "side": "SELL"],
            ["trade_time": "2026-12-08T00:05:00+00:00", "price": "104", "side": "BUY"],
        ]
        let svg = ConsolePage.tradesChart(klines: klines, fills: fills)
        #expect(svg.components(separatedBy: "class=\"buy\"").count == 2)
        #expect(svg.components(separatedBy: "class=\"sell\"").count == 2)
        #expect(svg.contains("<polyline"))
        #expect(ConsolePage.tradesChart(klines: [["open_time": "2026-12-08T00:00:00Z", "close": "x"]], fills: []).contains("unreadable"))
    }
}
