#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import AsyncHTTPClient
import FoundationEssentials
import GordonBot
import GordonDomain
public import GordonStrategy
public import GordonKernel
public import GordonPlatform
import GordonPostgres
import GordonWatchdog
public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore
public import PostgresNIO

/// gordon-manager's API, version 1, as served on its Unix socket to gordonctl and on its
/// loopback port to the console: JSON in and out, errors as `{"code","message"}` with
/// Gordon's error codes. Every call is made by an operator: on the socket, identified by its
/// peer credentials; on the port, by the console's credential and the user it names. Anyone
/// else is refused before the request is read.
///
/// What the manager owns it changes itself (a bot's configuration: create, start, stop);
/// what belongs to gordon-risk (the halt latch, flatten, pausing a bot) it files
/// in `trading.operator_requests` and waits for risk to carry out, so the audit trail and
/// the commands are written by their one owner.
public struct ManagerAPI: Sendable {
    public struct Configuration: Sendable {
        /// Root and this group's members may call the API.
        public var operatorsGroup = "gordon-ops"
        public var passwdFile = "/etc/passwd"
        public var groupFile = "/etc/group"
        /// How long a request to risk may take before the caller is told it is still pending.
        public var requestTimeout: Duration = .seconds(10)
        /// The services whose `/readyz` the status shows, by name.
        public var services: [(name: String, url: String)] = []
        /// The watchdog's status document, if it runs.
        public var watchdogStatusFile: String?
        /// The file that asks the watchdog for a backup now (its `backup.requestFile`).
        public var backupRequestFile: String?
        /// Where uploaded kline files wait for gordon-data (`data import`); nil: imports refused.
        public var importDirectory: String?
        /// The console's credential, for calls on the loopback port; without it every such
        /// call is refused.
        public var consoleCredential: ConsoleCredential?

        public init() {}
    }

    let configuration: Configuration
    let database: PostgresClient
    let logger: Logger
    let probes: [(name: String, client: ServiceHTTPClient)]
    let backtests: BacktestRuns?

    public init(configuration: Configuration, database: PostgresClient, logger: Logger, backtests: BacktestRuns? = nil,
                http: HTTPClient = .shared) {
        self.configuration = configuration
        self.database = database
        self.logger = logger
        self.backtests = backtests
        probes = configuration.services.map { ($0.name, ServiceHTTPClient(peer: $0.name, baseURL: $0.url, timeout: .seconds(2), http: http)) }
    }

    /// The operator making a call: a local account (on the socket) or the console's user,
    /// named `console.<user>` (on the loopback port, no uid).
    public struct Caller: Sendable {
        public let uid: UInt32?
        public let name: String
    }

    /// Adds the routes to `router` (one built with `ServiceHTTP.makeRouter(metrics:readiness: nil)`).
    public func addRoutes(to router: Router<ServiceRequestContext>) {
        let api = router.group("api/v1")
        get(api, "status") { _, _ in try await status() }
        get(api, "bots") { _, _ in try await json(Self.botsQuery(bot: nil)) }
        get(api, "bots/:bot") { _, context in
            let bot = context.parameters.get("bot") ?? ""
            let text = try await json(Self.botsQuery(bot: bot))
            guard text != "[]" else { throw GordonError(.notFound, "there is no bot \(bot)") }
            return text
        }
        get(api, "orders") { request, _ in
            let (bot, limit) = try Self.listFilter(request)
            return try await json(Self.ordersQuery(bot: bot, limit: limit))
        }
        get(api, "fills") { request, _ in
            let (bot, limit) = try Self.listFilter(request)
            return try await json(Self.fillsQuery(bot: bot, limit: limit))
        }
        get(api, "positions") { request, _ in
            let (bot, _) = try Self.listFilter(request)
            return try await json(Self.positionsQuery(bot: bot))
        }
        get(api, "klines") { request, _ in
            let query = request.uri.queryParameters
            let symbol = try Symbol(query.get("symbol") ?? "")
            let text = query.get("interval") ?? ""
            guard let interval = Interval(rawValue: text) else { throw GordonError(.invalidRequest, "'\(text)' is not a kline interval") }
            let (_, limit) = try Self.listFilter(request)
            return try await json(Self.klinesQuery(symbol: symbol.rawValue, interval: interval.rawValue, limit: limit))
        }
        get(api, "events") { request, _ in throw Self.liveEventsRefusal(request) }
        get(api, "data") { _, _ in try await marketDataStatus() }
        get(api, "data/backfills") { request, _ in
            let (_, limit) = try Self.listFilter(request)
            return try await json(Self.backfillsQuery(id: nil, limit: limit))
        }
        get(api, "data/backfills/:id") { _, context in
            let text = context.parameters.get("id") ?? ""
            guard let id = Int64(text), id > 0 else { throw GordonError(.invalidRequest, "'\(text)' is not a backfill id") }
            return try await onlyRow(Self.backfillsQuery(id: id, limit: 1), missing: GordonError(.notFound, "there is no backfill \(id)"))
        }
        post(api, "data/backfill") { request, _, caller in try await fileBackfill(request, by: caller) }
        post(api, "data/import") { request, _, caller in try await fileImport(request, by: caller) }
        get(api, "audit") { request, _ in
            let (_, limit) = try Self.listFilter(request)
            return try await json(Self.auditQuery(limit: limit))
        }
        for action in ["halt", "resume", "flatten"] {
            post(api, action) { request, _, caller in
                let reason = try await Self.reason(request)
                return try await ask(action, target: "all", reason: reason, by: caller)
            }
        }
        post(api, "bots") { request, _, caller in try await createBot(request, by: caller) }
        post(api, "backup") { _, _, caller in
            try fileWatchdogRequest(.backup, by: caller, outcome: "requested: the watchdog starts it within a second unless one is running")
        }
        get(api, "backup/snapshots") { _, _ in try snapshots() }
        post(api, "backup/snapshots/refresh") { _, _, caller in
            try fileWatchdogRequest(.listSnapshots, by: caller, outcome: "requested: the watchdog lists the repository's snapshots")
        }
        post(api, "backup/restore") { request, _, caller in try await requestRestore(request, by: caller) }
        for (verb, from, to) in [("start", ["stopped"], "running"), ("stop", ["running", "paused"], "stopped")] {
            post(api, "bots/:bot/\(verb)") { request, context, caller in
                let bot = context.parameters.get("bot") ?? ""
                let reason = try await Self.reason(request)
                return try await setDesiredState(bot: bot, from: from, to: to, reason: reason, by: caller)
            }
        }
        for (verb, action) in [("pause", "pause_bot"), ("resume", "resume_bot")] {
            post(api, "bots/:bot/\(verb)") { request, context, caller in
                let bot = context.parameters.get("bot") ?? ""
                let reason = try await Self.reason(request)
                return try await ask(action, target: bot, reason: reason, by: caller)
            }
        }
        if let backtests { addBacktestRoutes(to: api, backtests) }
        router.on("**", method: .get) { _, _ in Self.failure(GordonError(.notFound, "no such path")) }
        router.on("**", method: .post) { _, _ in Self.failure(GordonError(.notFound, "no such path")) }
    }

    private func addBacktestRoutes(to api: RouterGroup<ServiceRequestContext>, _ backtests: BacktestRuns) {
        get(api, "backtests") { request, _ in
            let (_, limit) = try Self.listFilter(request)
            return try await json(BacktestRuns.runsQuery(id: nil, limit: limit))
        }
        get(api, "backtests/:run") { _, context in
            let id = try Self.runId(context)
            return try await onlyRow(BacktestRuns.runsQuery(id: id, limit: 1), missing: GordonError(.notFound, "there is no backtest \(id)"))
        }
        get(api, "backtests/:run/equity") { _, context in
            try await json(BacktestRuns.equityQuery(id: try Self.runId(context)))
        }
        post(api, "backtests") { request, _, caller in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let body: BacktestRequest
            do {
                body = try JSONDecoder().decode(BacktestRequest.self, from: Data(buffer.readableBytesView))
            } catch {
                throw GordonError(.invalidRequest, "the body must be a backtest: plan, symbol, interval, from, to, cash, maker_fee_bps, "
                                  + "taker_fee_bps, pay_fees_with_bnb, fill, slippage_bps (\(error))")
            }
            let id = try await backtests.submit(body, by: caller.name)
            return try await onlyRow(BacktestRuns.runsQuery(id: id, limit: 1))
        }
        post(api, "backtests/:run/cancel") { _, context, caller in
            let id = try Self.runId(context)
            let outcome = try await backtests.cancel(id, by: caller.name)
            var text = "{\"run_id\":\"\(id.uuidString.lowercased())\",\"outcome\":"
            JSONStringLiteral.append(outcome, to: &text)
            return text + "}"
        }
    }

    static func runId(_ context: ServiceRequestContext) throws(GordonError) -> UUID {
        let text = context.parameters.get("run") ?? ""
        guard let id = UUID(uuidString: text) else { throw GordonError(.invalidRequest, "'\(text)' is not a run id (a UUID)") }
        return id
    }

    // MARK: Backups

    /// Hands the watchdog a request by its request file, which it takes within a second when
    /// it is free; its status says how it went. One request waits at a time: a second is
    /// refused rather than overwriting the first. The file appears whole or not at all
    /// (written aside, then linked into place, which fails if one is there): the watchdog must
    /// never read a request half written.
    func fileWatchdogRequest(_ action: WatchdogRequest.Action, by caller: Caller, outcome: String) throws -> String {
        guard let path = configuration.backupRequestFile else {
            throw GordonError(.serviceUnavailable, "backups on request are not configured (--backup-request)")
        }
        let aside = "\(path).\(UUID().uuidString.lowercased()).tmp"
        let descriptor = open(aside, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw GordonError(.serviceUnavailable, "cannot write the watchdog request \(aside): errno \(errno)")
        }
        defer { unlink(aside) }
        let text = Array(WatchdogRequest(requestedBy: "operator:\(caller.name)", action: action).text.utf8)
        let written = write(descriptor, text, text.count)
        close(descriptor)
        guard written == text.count else {
            throw GordonError(.serviceUnavailable, "cannot write the watchdog request \(aside): errno \(errno)")
        }
        guard link(aside, path) == 0 else {
            if errno == EEXIST {
                throw GordonError(.requestRefused, "an earlier request is still waiting for the watchdog (is it running? is a backup or restore running?)")
            }
            throw GordonError(.serviceUnavailable, "cannot file the watchdog request \(path): errno \(errno)")
        }
        logger.notice("watchdog request filed", metadata: ["operator": "\(caller.name)", "request": "\(action)"])
        var reply = "{\"outcome\":"
        JSONStringLiteral.append(outcome, to: &reply)
        return reply + "}"
    }

    /// The repository's snapshots as the watchdog last listed them, newest first.
    func snapshots() throws -> String {
        guard let path = configuration.watchdogStatusFile, let status = try? WatchdogStatus.read(from: path) else {
            throw GordonError(.serviceUnavailable, "the watchdog's status file is missing or unreadable (--watchdog-status)")
        }
        guard let backup = status.backup else { throw GordonError(.serviceUnavailable, "the watchdog has no backups configured") }
        let snapshots = JSONValue.array((backup.snapshots ?? []).map { .object(["id": .string($0.id), "time": .string($0.time)]) })
        return JSONValue.object(["snapshots": snapshots, "listed_at": backup.snapshotsListedAt.map(JSONValue.string) ?? .null]).description
    }

    struct RestoreBody: Decodable {
        let snapshot: String
    }

    /// A restore: the watchdog stops every service (this one too), replaces the trading schema
    /// with the snapshot's, closes the halt latch, migrates and starts them again. The
    /// snapshot must be one the watchdog listed, or `latest`.
    func requestRestore(_ request: Request, by caller: Caller) async throws -> String {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        guard let body = try? JSONDecoder().decode(RestoreBody.self, from: Data(buffer.readableBytesView)) else {
            throw GordonError(.invalidRequest, "the body must be JSON with a \"snapshot\": latest or a snapshot id")
        }
        guard WatchdogRequest.isSnapshot(body.snapshot) else {
            throw GordonError(.invalidRequest, "'\(body.snapshot.prefix(80))' is not a snapshot: latest, or its id in hex (8 to 64 digits)")
        }
        if body.snapshot != "latest", let path = configuration.watchdogStatusFile, let listed = try? WatchdogStatus.read(from: path).backup?.snapshots {
            let matching = listed.filter { $0.id.hasPrefix(body.snapshot) }
            guard matching.count == 1 else {
                throw GordonError(.notFound, matching.isEmpty ? "the repository has no snapshot \(body.snapshot) (see `gordonctl backup list`)"
                                  : "\(body.snapshot) names \(matching.count) snapshots: give more of its id")
            }
        }
        return try fileWatchdogRequest(.restore(snapshot: body.snapshot), by: caller,
                                       outcome: "requested: the watchdog stops every service, restores \(body.snapshot), closes the halt latch and starts them again")
    }

    // MARK: Market data

    /// Each stored kline series: how many, from when to when, how many are missing between
    /// its first and last, how far its last close is behind now; and each alternative-data
    /// series' last observation.
    func marketDataStatus() async throws -> String {
        let now = Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
        var series: [JSONValue] = []
        for try await (symbol, intervalText, count, first, last, lastClose, ingested) in try await database.query("""
            SELECT symbol, interval, count(*), (extract(epoch FROM min(open_time)) * 1000)::bigint,
                   (extract(epoch FROM max(open_time)) * 1000)::bigint, (extract(epoch FROM max(close_time)) * 1000)::bigint,
                   max(ingested_at)::text
            FROM market_data.v_klines_reader GROUP BY symbol, interval ORDER BY symbol, interval
            """, logger: logger).decode((String, String, Int64, Int64, Int64, Int64, String).self) {
            var fields: [String: JSONValue] = [
                "symbol": .string(symbol), "interval": .string(intervalText), "klines": .number(Double(count)),
                "first_open": .string(Timestamp(milliseconds: first).description), "last_open": .string(Timestamp(milliseconds: last).description),
                "seconds_behind": .number(Double(max(0, now - lastClose) / 1000)), "last_ingested_at": .string(ingested),
            ]
            // A calendar month has no fixed length: its gaps are not counted.
            if let interval = try? Interval(parsing: intervalText), intervalText != "1M" {
                let expected = (last - first) / interval.nominalMilliseconds + 1
                fields["missing"] = .number(Double(max(0, expected - count)))
            }
            series.append(.object(fields))
        }
        var metrics: [JSONValue] = []
        for try await (name, observations, lastObserved, source) in try await database.query("""
            SELECT DISTINCT ON (name) name, count(*) OVER (PARTITION BY name), observed_at::text, source
            FROM market_data.v_metrics_reader ORDER BY name, observed_at DESC
            """, logger: logger).decode((String, Int64, String, String).self) {
            metrics.append(.object(["name": .string(name), "observations": .number(Double(observations)),
                                    "last_observed_at": .string(lastObserved), "source": .string(source)]))
        }
        return JSONValue.object(["klines": .array(series), "metrics": .array(metrics)]).description
    }

    /// A backfill as `POST /api/v1/data/backfill` takes it: open times in epoch milliseconds.
    public struct BackfillBody: Codable, Sendable {
        public let symbol: String
        public let interval: String
        public let from: Int64
        public let to: Int64

        public init(symbol: String, interval: String, from: Int64, to: Int64) {
            self.symbol = symbol
            self.interval = interval
            self.from = from
            self.to = to
        }
    }

    /// Files a backfill for gordon-data, which writes market data (the manager cannot).
    func fileBackfill(_ request: Request, by caller: Caller) async throws -> String {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        let body: BackfillBody
        do {
            body = try JSONDecoder().decode(BackfillBody.self, from: Data(buffer.readableBytesView))
        } catch {
            throw GordonError(.invalidRequest, "the body must be a backfill: symbol, interval, from, to (epoch milliseconds)")
        }
        let symbol = try Symbol(body.symbol)
        let interval = try Interval(parsing: body.interval)
        let now = Int64((Date.now.timeIntervalSince1970 * 1000).rounded())
        guard body.from >= 1_230_768_000_000, body.from <= body.to, body.to <= now else {
            throw GordonError(.invalidRequest, "from and to must be open times from 2009 to now, from not after to")
        }
        var id: Int64?
        for try await (filed,) in try await database.query("""
            INSERT INTO market_data.backfill_requests (symbol, interval, from_time, to_time, requested_by)
            VALUES (\(symbol.rawValue), \(interval.rawValue), 'epoch'::timestamptz + \(body.from) * interval '1 millisecond',
                    'epoch'::timestamptz + \(body.to) * interval '1 millisecond', \("operator:" + caller.name)) RETURNING id
            """, logger: logger).decode((Int64,).self) { id = filed }
        guard let id else { throw GordonError(.internalInvariant, "the backfill was not filed") }
        logger.notice("backfill filed", metadata: ["request": "\(id)", "series": "\(symbol)@\(interval)", "operator": "\(caller.name)"])
        return try await onlyRow(Self.backfillsQuery(id: id, limit: 1))
    }

    static func backfillsQuery(id: Int64?, limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(b ORDER BY b.id DESC), '[]')::text FROM (
            SELECT id, symbol, interval, from_time, to_time, CASE WHEN file_name IS NULL THEN 'rest' ELSE 'file' END AS source, status,
                   progress, fetched, written, error, requested_by, requested_at, started_at, finished_at
            FROM market_data.v_backfill_requests WHERE \(id)::bigint IS NULL OR id = \(id) ORDER BY id DESC LIMIT \(limit)) b
        """
    }

    // MARK: Who is calling

    /// The caller, if an operator; otherwise `notAnOperator` (the socket) or
    /// `consoleCredentialInvalid` (the port). On the socket the accounts are read afresh each
    /// time, so a user removed from the group loses access at once.
    public func authorize(_ headers: HTTPFields, on channel: any Channel) async throws(GordonError) -> Caller {
        guard case .unixDomainSocket = channel.localAddress else {
            guard let credential = configuration.consoleCredential, credential.admits(authorization: headers[.authorization]) else {
                logger.warning("console call refused: no valid credential", metadata: ["peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                throw GordonError(.consoleCredentialInvalid, "the console's credential is missing or wrong")
            }
            return Caller(uid: nil, name: try ConsoleCredential.operatorName(headers[Self.operatorHeader]))
        }
        let peer = try await PeerCredentials.of(channel)
        let accounts = LocalAccounts(passwd: Self.readFile(configuration.passwdFile), group: Self.readFile(configuration.groupFile))
        guard accounts.isOperator(uid: peer.uid, group: configuration.operatorsGroup) else {
            logger.warning("manager call refused: not an operator", metadata: ["uid": "\(peer.uid)", "pid": "\(peer.pid)"])
            throw GordonError(.notAnOperator, "uid \(peer.uid) (\(accounts.name(of: peer.uid))) is not root and not in \(configuration.operatorsGroup)")
        }
        return Caller(uid: peer.uid, name: accounts.name(of: peer.uid))
    }

    /// The console's user, on whose behalf it calls.
    public static let operatorHeader = HTTPField.Name("X-Gordon-Operator")!

    static func readFile(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    // MARK: Routing helpers

    private func get(_ group: RouterGroup<ServiceRequestContext>, _ path: String,
                     _ body: @escaping @Sendable (Request, ServiceRequestContext) async throws -> String) {
        group.get(RouterPath(path)) { request, context in
            await respond(request, context) { _ in try await body(request, context) }
        }
    }

    private func post(_ group: RouterGroup<ServiceRequestContext>, _ path: String,
                      _ body: @escaping @Sendable (Request, ServiceRequestContext, Caller) async throws -> String) {
        group.post(RouterPath(path)) { request, context in
            await respond(request, context) { caller in try await body(request, context, caller) }
        }
    }

    private func respond(_ request: Request, _ context: ServiceRequestContext, _ body: (Caller) async throws -> String) async -> Response {
        do {
            let caller = try await authorize(request.headers, on: context.channel)
            let text = try await body(caller)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text + "\n")))
        } catch let error as GordonError {
            return Self.failure(error)
        } catch {
            logger.error("manager request failed", metadata: ["error": "\(error)"])
            return Self.failure(GordonError(.internalInvariant, "the request failed: \(error)"))
        }
    }

    static func failure(_ error: GordonError) -> Response {
        let status: HTTPResponse.Status = switch error.kind {
        case .invalidInput: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unauthorized: .forbidden
        case .timeout: .accepted
        case .unavailable, .rateLimited: .serviceUnavailable
        case .rejectedByExchange, .internal: .internalServerError
        }
        var text = "{\"code\":"
        JSONStringLiteral.append(error.code.description, to: &text)
        text += ",\"message\":"
        JSONStringLiteral.append(error.message, to: &text)
        text += "}\n"
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// `?bot=` (a bot id) and `?limit=` (1-1000, default 50).
    static func listFilter(_ request: Request) throws(GordonError) -> (bot: String?, limit: Int) {
        let bot = request.uri.queryParameters.get("bot")
        if let bot, !Self.isBotId(bot) { throw GordonError(.invalidRequest, "bot must be a bot id (a-z, 0-9, _ and -), not '\(bot)'") }
        var limit = 50
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...1000).contains(value) else { throw GordonError(.invalidRequest, "limit must be 1-1000, not '\(text)'") }
            limit = value
        }
        return (bot, limit)
    }

    /// BotId's own rule.
    static func isBotId(_ text: String) -> Bool { (try? BotId(text)) != nil }

    struct ReasonBody: Decodable {
        let reason: String
    }

    /// The body's `reason`: 1-256 bytes of text without control characters (it travels in
    /// the risk command and the audit log).
    static func reason(_ request: Request) async throws -> String {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        let body: ReasonBody
        do {
            body = try JSONDecoder().decode(ReasonBody.self, from: Data(buffer.readableBytesView))
        } catch {
            throw GordonError(.invalidRequest, "the body must be JSON with a \"reason\" string")
        }
        let reason = body.reason
        guard !reason.isEmpty, reason.utf8.count <= 256, !reason.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else { throw GordonError(.invalidRequest, "the reason must be 1-256 bytes without control characters") }
        return reason
    }

    // MARK: Asking risk

    /// Files the request and waits for risk to carry it out: the outcome, `requestRefused`
    /// with risk's reason, or `requestPending` when it has not been handled in time.
    func ask(_ action: String, target: String, reason: String, by caller: Caller) async throws -> String {
        if target != "all", !Self.isBotId(target) { throw GordonError(.invalidRequest, "'\(target)' is not a bot id") }
        var id: Int64?
        for try await (filed,) in try await database.query("""
            INSERT INTO trading.operator_requests (action, target, reason, requested_by)
            VALUES (\(action), \(target), \(reason), \(caller.name)) RETURNING id
            """, logger: logger).decode((Int64,).self) { id = filed }
        guard let id else { throw GordonError(.internalInvariant, "the request was not filed") }
        logger.notice("operator request filed", metadata: [
            "request": "\(id)", "action": "\(action)", "target": "\(target)", "operator": "\(caller.name)", "uid": "\(caller.uid.map(String.init) ?? "-")",
            "reason": "\(reason)",
        ])
        let deadline = ContinuousClock.now + configuration.requestTimeout
        while true {
            for try await (outcome,) in try await database.query(
                "SELECT outcome FROM trading.operator_requests WHERE id = \(id) AND handled_at IS NOT NULL", logger: logger
            ).decode((String,).self) {
                if outcome.hasPrefix("refused: ") {
                    throw GordonError(.requestRefused, String(outcome.dropFirst("refused: ".count)), context: ["request": "\(id)"])
                }
                var text = "{\"request\":\(id),\"action\":"
                JSONStringLiteral.append(action, to: &text)
                text += ",\"outcome\":"
                JSONStringLiteral.append(outcome, to: &text)
                return text + "}"
            }
            guard ContinuousClock.now < deadline else {
                throw GordonError(.requestPending, "request \(id) is filed but gordon-risk has not carried it out within \(configuration.requestTimeout): is it running?",
                                  context: ["request": "\(id)"])
            }
            try await Task.sleep(for: .milliseconds(50))  // poll interval, bounded by the deadline above
        }
    }

    // MARK: Bots

    /// Checked as the bot will check it when it starts; created stopped (an operator starts
    /// it once its process, role and NATS user are deployed).
    func createBot(_ request: Request, by caller: Caller) async throws -> String {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        let bot: NewBot
        do {
            bot = try JSONDecoder().decode(NewBot.self, from: Data(buffer.readableBytesView))
        } catch {
            throw GordonError(.invalidRequest, "the body must be a bot: bot_id, strategy, parameters, overlays, sizing, symbol, interval, max_quote_exposure (\(error))")
        }
        guard Self.isBotId(bot.botId), bot.botId != "all" else {
            throw GordonError(.invalidRequest, "bot_id must be a-z, 0-9, _ and - (at most 63, not 'all'), not '\(bot.botId)'")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func encoded(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let parameters = try encoded(bot.parameters ?? [:])
        let overlays = try encoded(bot.overlays ?? [])
        let sizing = try encoded(bot.sizing ?? StrategyConfig(name: "fixed_fraction"))
        _ = try BotRecords.validate(botId: try BotId(bot.botId), strategy: bot.strategy, parameters: parameters, symbols: [bot.symbol],
                                    interval: bot.interval, desiredState: "stopped", allocation: bot.maxQuoteExposure, overlays: overlays, sizing: sizing)
        var created = false
        for try await _ in try await database.query("""
            INSERT INTO trading.bot_configs (bot_id, strategy, parameters, symbols, interval, desired_state, max_quote_exposure, overlays, sizing)
            VALUES (\(bot.botId), \(bot.strategy), \(parameters)::jsonb, ARRAY[\(bot.symbol)], \(bot.interval), 'stopped',
                    \(bot.maxQuoteExposure)::numeric, \(overlays)::jsonb, \(sizing)::jsonb)
            ON CONFLICT (bot_id) DO NOTHING RETURNING bot_id
            """, logger: logger) { created = true }
        guard created else { throw GordonError(.alreadyExists, "there is a bot \(bot.botId) already") }
        logger.notice("bot created", metadata: ["bot": "\(bot.botId)", "strategy": "\(bot.strategy)", "operator": "\(caller.name)"])
        return try await json(Self.botsQuery(bot: bot.botId))
    }

    /// Start (stopped to running) and stop (running or paused to stopped) are the manager's:
    /// the bot's lifecycle. Pausing and resuming a running bot are risk's.
    func setDesiredState(bot: String, from: [String], to: String, reason: String, by caller: Caller) async throws -> String {
        guard Self.isBotId(bot) else { throw GordonError(.invalidRequest, "'\(bot)' is not a bot id") }
        var current: String?
        for try await (state,) in try await database.query(
            "SELECT desired_state FROM trading.v_bot_configs WHERE bot_id = \(bot)", logger: logger).decode((String,).self) { current = state }
        guard let current else { throw GordonError(.notFound, "there is no bot \(bot)") }
        guard from.contains(current) else {
            throw GordonError(.requestRefused, "bot \(bot) is \(current), not \(from.joined(separator: " or "))")
        }
        var changed = false
        for try await _ in try await database.query("""
            UPDATE trading.bot_configs SET desired_state = \(to), updated_at = now()
            WHERE bot_id = (SELECT bot_id FROM trading.v_bot_configs WHERE bot_id = \(bot) AND desired_state = ANY(\(from)))
            RETURNING bot_id
            """, logger: logger) { changed = true }
        guard changed else { throw GordonError(.requestRefused, "bot \(bot) changed state meanwhile; look again") }
        logger.notice("bot desired state set", metadata: [
            "bot": "\(bot)", "from": "\(current)", "to": "\(to)", "operator": "\(caller.name)", "uid": "\(caller.uid.map(String.init) ?? "-")", "reason": "\(reason)",
        ])
        var text = "{\"bot\":"
        JSONStringLiteral.append(bot, to: &text)
        text += ",\"outcome\":"
        JSONStringLiteral.append("bot \(bot) \(to)", to: &text)
        return text + "}"
    }

    // MARK: Reading

    func json(_ query: PostgresQuery) async throws -> String {
        for try await (text,) in try await database.query(query, logger: logger).decode((String,).self) { return text }
        return "null"
    }

    /// The one object of a `json_agg` query limited to one row; `missing` when it found none.
    func onlyRow(_ query: PostgresQuery,
                 missing: @autoclosure () -> GordonError = GordonError(.internalInvariant, "the row just written cannot be read back")) async throws -> String {
        let text = try await json(query)
        guard text.hasPrefix("[{"), text.hasSuffix("}]") else { throw missing() }
        return String(text.dropFirst().dropLast())
    }

    /// Amounts as strings: exact, as the database holds them.
    static func botsQuery(bot: String?) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(b ORDER BY b.bot_id), '[]')::text FROM (
            SELECT c.bot_id, c.strategy, c.parameters, c.symbols, c.interval, c.desired_state,
                   c.max_quote_exposure::text AS max_quote_exposure, c.created_at, c.updated_at,
                   l.instance_id AS lease_holder, l.host AS lease_host, l.renewed_at AS lease_renewed_at,
                   (l.expires_at > now()) AS lease_live
            FROM trading.v_bot_configs c LEFT JOIN trading.v_bot_leases l USING (bot_id)
            WHERE \(bot)::text IS NULL OR c.bot_id = \(bot)) b
        """
    }

    static func ordersQuery(bot: String?, limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(o ORDER BY o.created_at DESC, o.client_order_id), '[]')::text FROM (
            SELECT client_order_id, exchange_order_id, bot_id, symbol, side, order_type, time_in_force, price::text AS price,
                   quantity::text AS quantity, executed_quantity::text AS executed_quantity,
                   cumulative_quote_quantity::text AS cumulative_quote_quantity, status, reject_reason, created_at, updated_at
            FROM trading.v_orders WHERE \(bot)::text IS NULL OR bot_id = \(bot)
            ORDER BY created_at DESC, client_order_id LIMIT \(limit)) o
        """
    }

    static func fillsQuery(bot: String?, limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(t ORDER BY t.trade_time DESC, t.trade_id DESC), '[]')::text FROM (
            SELECT symbol, trade_id, client_order_id, bot_id, side, price::text AS price, quantity::text AS quantity,
                   quote_quantity::text AS quote_quantity, commission::text AS commission, commission_asset, is_maker, trade_time
            FROM trading.v_trades WHERE \(bot)::text IS NULL OR bot_id = \(bot)
            ORDER BY trade_time DESC, trade_id DESC LIMIT \(limit)) t
        """
    }

    static func positionsQuery(bot: String?) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(p ORDER BY p.bot_id, p.symbol), '[]')::text FROM (
            SELECT p.bot_id, p.symbol, p.quantity::text AS quantity, p.average_entry_price::text AS average_entry_price,
                   p.realized_pnl::text AS realized_pnl, k.close::text AS last_price,
                   (p.quantity * (k.close - p.average_entry_price))::text AS unrealized_pnl, p.updated_at
            FROM trading.v_positions p
            LEFT JOIN LATERAL (SELECT close FROM market_data.v_klines_reader
                               WHERE symbol = p.symbol ORDER BY close_time DESC LIMIT 1) k ON true
            WHERE (\(bot)::text IS NULL OR p.bot_id = \(bot)) AND (p.quantity <> 0 OR p.realized_pnl <> 0)) p
        """
    }

    /// The latest closed klines of a series, oldest first (the console's charts).
    static func klinesQuery(symbol: String, interval: String, limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(k ORDER BY k.open_time), '[]')::text FROM (
            SELECT open_time, close_time, open::text AS open, high::text AS high, low::text AS low, close::text AS close,
                   volume::text AS volume
            FROM market_data.v_klines_reader WHERE symbol = \(symbol) AND interval = \(interval)
            ORDER BY open_time DESC LIMIT \(limit)) k
        """
    }

    static func auditQuery(limit: Int) -> PostgresQuery {
        """
        SELECT coalesce(json_agg(a ORDER BY a.id DESC), '[]')::text FROM (
            SELECT id, actor, action, target, reason, details, occurred_at FROM trading.v_risk_audit_log ORDER BY id DESC LIMIT \(limit)) a
        """
    }

    static let tradingStatusQuery: PostgresQuery = """
        SELECT json_build_object(
            'halt', (SELECT row_to_json(h) FROM (SELECT halted, reason, changed_by, changed_at FROM trading.v_halt_latch) h),
            'risk', (SELECT row_to_json(r) FROM (SELECT tripped, limits, peak_equity::text AS peak_equity,
                                                        day_opening_equity::text AS day_opening_equity, updated_at
                                                 FROM trading.v_risk_state) r),
            'open_orders', (SELECT count(*) FROM trading.v_orders WHERE status IN ('PENDING_NEW', 'NEW', 'PARTIALLY_FILLED', 'PENDING_CANCEL')),
            'pending_requests', (SELECT count(*) FROM trading.operator_requests WHERE handled_at IS NULL),
            'last_breaker_event', (SELECT row_to_json(e) FROM (SELECT breaker, state, reason, occurred_at FROM trading.v_risk_events
                                                               ORDER BY id DESC LIMIT 1) e)
        )::text
        """

    /// The portfolio's equity as gordon-risk counts it (`Portfolio.equity`): every bot's
    /// allocation, plus realised profit, plus each position at its symbol's last closed kline;
    /// null while a held symbol has no price. With risk's peak and the day's opening.
    static let equityQuery: PostgresQuery = """
        WITH last AS (
            SELECT DISTINCT ON (symbol) symbol, close FROM market_data.v_klines_reader
            WHERE symbol IN (SELECT symbol FROM trading.v_positions WHERE quantity <> 0) ORDER BY symbol, close_time DESC)
        SELECT json_build_object(
            'equity', CASE WHEN EXISTS (SELECT 1 FROM trading.v_positions p WHERE p.quantity <> 0 AND p.symbol NOT IN (SELECT symbol FROM last))
                      THEN NULL ELSE (
                          (SELECT coalesce(sum(coalesce(max_quote_exposure, 0)), 0) FROM trading.v_bot_configs)
                          + (SELECT coalesce(sum(p.realized_pnl + CASE WHEN p.quantity <> 0 THEN p.quantity * (l.close - p.average_entry_price) ELSE 0 END), 0)
                             FROM trading.v_positions p LEFT JOIN last l USING (symbol)))::text END,
            'peak_equity', (SELECT peak_equity::text FROM trading.v_risk_state),
            'day_opening_equity', (SELECT day_opening_equity::text FROM trading.v_risk_state),
            'at', now())::text
        """

    /// One screen: the halt latch, what risk holds tripped, the equity, every service's
    /// readiness, the bots, the positions, the watchdog and its last backup.
    func status() async throws -> String {
        var text = "{\"trading\":" + (try await json(Self.tradingStatusQuery))
        text += ",\"equity\":" + (try await json(Self.equityQuery))
        text += ",\"bots\":" + (try await json(Self.botsQuery(bot: nil)))
        text += ",\"positions\":" + (try await json(Self.positionsQuery(bot: nil)))
        text += ",\"services\":["
        let reports = await withTaskGroup(of: (Int, String).self) { group in
            for (index, probe) in probes.enumerated() {
                group.addTask { (index, await Self.readiness(of: probe.name, probe.client)) }
            }
            var reports = [String](repeating: "", count: probes.count)
            for await (index, report) in group { reports[index] = report }
            return reports
        }
        text += reports.joined(separator: ",") + "]"
        text += ",\"watchdog\":" + watchdogStatus()
        return text + "}"
    }

    static func readiness(of name: String, _ client: ServiceHTTPClient) async -> String {
        var text = "{\"name\":"
        JSONStringLiteral.append(name, to: &text)
        do {
            let reply = try await client.send(.GET, "/readyz")
            var body = Substring(String(decoding: reply.body, as: UTF8.self))
            while body.last?.isWhitespace == true { body = body.dropLast() }
            let isJSON = body.hasPrefix("{") && body.hasSuffix("}")
            text += ",\"ready\":\(reply.status == 200),\"readyz\":" + (isJSON ? String(body) : "null")
        } catch {
            text += ",\"ready\":false,\"error\":"
            JSONStringLiteral.append(error.message, to: &text)
        }
        return text + "}"
    }

    func watchdogStatus() -> String {
        guard let path = configuration.watchdogStatusFile else { return "null" }
        guard let status = try? WatchdogStatus.read(from: path), let data = try? JSONEncoder().encode(status) else {
            return "{\"error\":\"the watchdog's status file is missing or unreadable\"}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// A new bot, as `POST /api/v1/bots` takes it (and gordonctl sends it): the plan in the
/// backtester's JSON.
public struct NewBot: Codable, Sendable {
    public let botId: String
    public let strategy: String
    public let parameters: [String: Double]?
    public let overlays: [StrategyConfig]?
    public let sizing: StrategyConfig?
    public let symbol: String
    public let interval: String
    public let maxQuoteExposure: String

    enum CodingKeys: String, CodingKey {
        case strategy, parameters, overlays, sizing, symbol, interval
        case botId = "bot_id"
        case maxQuoteExposure = "max_quote_exposure"
    }

    public init(botId: String, strategy: String, parameters: [String: Double]?, overlays: [StrategyConfig]?, sizing: StrategyConfig?,
                symbol: String, interval: String, maxQuoteExposure: String) {
        self.botId = botId
        self.strategy = strategy
        self.parameters = parameters
        self.overlays = overlays
        self.sizing = sizing
        self.symbol = symbol
        self.interval = interval
        self.maxQuoteExposure = maxQuoteExposure
    }
}
