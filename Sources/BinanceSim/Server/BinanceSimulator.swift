public import GordonDomain
public import GordonExchange
public import GordonKernel
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One REST response, ready for the HTTP layer.
public struct SimHTTPResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var contentType = "application/json;charset=UTF-8"
}

/// A REST request as the simulator saw it, for tests that check what reached the exchange.
public struct SimRequestRecord: Sendable, Hashable {
    public let serverTime: Int64
    public let method: String
    public let path: String
    public let status: Int
}

/// A local Binance spot exchange: the REST API and streams of `binance-spot-api-docs` over
/// a `SimExchangeCore` matching engine and a `SimMarketFeed`, with `SimFaults` switchable at
/// run time. Requests pass the same gates, in the same order, as on Binance: faults, rate
/// limits (IP ban, 429), API key, timestamp window, signature, then the endpoint.
public final class BinanceSimulator: Sendable {
    public let configuration: SimConfiguration
    let broadcaster = SimBroadcaster()
    let state: Mutex<State>

    struct State {
        var core: SimExchangeCore
        var feed: SimMarketFeed
        var faults = SimFaultState()
        var limits: SimRateLimits
        var listenKeys: [String: Int64] = [:]  // key → expiry (server time)
        var requests: [SimRequestRecord] = []
        var placements: [String: Int] = [:]  // client order id → orders placed under it
        var nextListenKey = 0
        var nextAggregateTradeId: Int64 = 1
        /// Per symbol, oldest first; at least the newest `publicTradeMemory` kept.
        var publicTrades: [Symbol: [PublicTrade]] = [:]

        /// Binance serves `trades` up to 1,000 back; the tape keeps a few times that.
        static let publicTradeMemory = 5_000

        mutating func recordPublicTrade(_ trade: PublicTrade, symbol: Symbol) {
            publicTrades[symbol, default: []].append(trade)
            if publicTrades[symbol]!.count > 2 * Self.publicTradeMemory {
                publicTrades[symbol]!.removeFirst(Self.publicTradeMemory)
            }
        }
        var nextBookUpdateId: Int64 = 1
    }

    public init(configuration: SimConfiguration, feed: SimMarketFeed) {
        self.configuration = configuration
        var core = SimExchangeCore(symbols: configuration.symbols, fees: configuration.fees, balances: configuration.balances,
                                   firstId: configuration.firstId)
        for symbol in feed.symbols {
            if let last = feed.lastPublished(symbol) {
                _ = core.marketMoved(symbol: symbol, last: last.close.value, low: last.close.value, high: last.close.value,
                                     now: last.closeTime.milliseconds)
            }
        }
        state = Mutex(State(core: core, feed: feed,
                            limits: SimRateLimits(rules: configuration.rateLimits, banAfterViolations: configuration.banAfterViolations,
                                                  banSeconds: configuration.banSeconds)))
    }

    // MARK: Control (tests, the `/sim/` endpoints, the pacing loop)

    /// The server clock: this machine's wall clock shifted by the clock-skew fault.
    public var serverTime: Int64 {
        let skew = state.withLock { $0.faults.faults.clockSkewMilliseconds }
        return Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) + skew
    }

    public var faults: SimFaults { state.withLock { $0.faults.faults } }

    public func updateFaults(_ change: (inout SimFaults) -> Void) {
        state.withLock { change(&$0.faults.faults) }
    }

    /// Consumes the stalled-upgrade fault for one incoming stream connection: how long its
    /// upgrade hangs, or nil to upgrade at once.
    func streamUpgradeStall() -> Int? {
        state.withLock { $0.faults.streamUpgradeStall() }
    }

    /// A market shock from the next kline on (`SimMarketFeed.scaleUnpublished`).
    public func shock(by factor: ExactDecimal) throws(GordonError) {
        try state.withLock { (state: inout State) throws(GordonError) in try state.feed.scaleUnpublished(by: factor) }
    }

    /// Publishes the next kline of every series: resting orders it reaches fill, and the
    /// kline, trade and book ticker streams announce it. Returns the klines published.
    @discardableResult
    public func advance(steps: Int = 1) -> [Kline] {
        var published: [Kline] = []
        for _ in 0..<max(steps, 0) {
            let (klines, events, tickers, tradeIds) = state.withLock { state in
                let klines = state.feed.advance()
                var events: [SimEvent] = []
                var tickers: [BookTicker] = []
                var tradeIds: [Int64] = []
                for kline in klines {
                    events += state.core.marketMoved(symbol: kline.symbol, last: kline.close.value, low: kline.low.value,
                                                     high: kline.high.value, now: kline.closeTime.milliseconds)
                    if let book = state.core.bookTicker(kline.symbol),
                       let bid = try? Price(book.bidPrice), let ask = try? Price(book.askPrice),
                       let bidQty = try? Quantity(book.bidQty), let askQty = try? Quantity(book.askQty) {
                        tickers.append(BookTicker(updateId: state.nextBookUpdateId, symbol: kline.symbol, bidPrice: bid,
                                                  bidQuantity: bidQty, askPrice: ask, askQuantity: askQty))
                        state.nextBookUpdateId += 1
                    }
                    tradeIds.append(state.nextAggregateTradeId)
                    state.recordPublicTrade(PublicTrade(id: state.nextAggregateTradeId, price: kline.close.value,
                                                        quantity: kline.volume.value, time: kline.closeTime.milliseconds),
                                            symbol: kline.symbol)
                    state.nextAggregateTradeId += 1
                }
                return (klines, events, tickers, tradeIds)
            }
            if klines.isEmpty { break }
            published += klines
            broadcast(klines: klines, tickers: tickers, tradeIds: tradeIds)
            broadcast(events)
        }
        return published
    }

    /// How many klines are left to publish for `symbol`.
    public func remainingKlines(_ symbol: Symbol) -> Int { state.withLock { $0.feed.remaining(symbol) } }

    /// Closes every WebSocket connection; returns how many there were.
    @discardableResult
    public func dropStreamConnections() -> Int { broadcaster.dropAll() }

    public var streamConnectionCount: Int { broadcaster.connectionCount }

    /// Every REST request so far, oldest first.
    public var requestLog: [SimRequestRecord] { state.withLock { $0.requests } }

    /// The highest count each rate-limit window reached on an admitted request.
    public var rateLimitPeaks: [(rule: RateLimitRule, peak: Int)] { state.withLock { $0.limits.peaks } }

    /// How many orders the matching engine accepted under this client order id.
    public func placements(of clientOrderId: String) -> Int { state.withLock { $0.placements[clientOrderId] ?? 0 } }

    public func balances() -> [SimBalance] { state.withLock { $0.core.balances() } }

    public func openOrders() -> [SimOrder] { state.withLock { $0.core.openOrders(symbol: nil) } }

    // MARK: REST

    public func respond(method: String, path: String, query: String?, body: String?, apiKey: String?) async -> SimHTTPResponse {
        let now = serverTime
        var response = await route(method: method, path: path, query: query, body: body, apiKey: apiKey, now: now)
        let (latency, headers) = state.withLock { state in
            state.requests.append(SimRequestRecord(serverTime: now, method: method, path: path, status: response.status))
            if state.requests.count > 100_000 { state.requests.removeFirst(50_000) }
            return (state.faults.faults.latencyMilliseconds, state.limits.headers(now: now))
        }
        response.headers += headers
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
        return response
    }

    private func route(method: String, path: String, query: String?, body: String?, apiKey: String?, now: Int64) async -> SimHTTPResponse {
        if path.hasPrefix("/sim/") { return control(method: method, path: path, parameters: SimParameters(query: query, body: nil), body: body) }
        let isSource = method == "GET" && Self.sourcePaths.contains(path)
        guard isSource || SimEndpoint.find(method: method, path: path) != nil else { return Self.notFound }
        let parameters = SimParameters(query: query, body: body)

        switch state.withLock({ $0.faults.verdict(now: now) }) {
        case .proceed: break
        case .tooManyRequests(let seconds):
            var reply = error(429, -1003, "Too many requests; current limit is exceeded. Please use WebSocket Streams for live updates to avoid polling the API.")
            reply.headers.append(("Retry-After", "\(seconds)"))
            return reply
        case .banned(let until):
            return banned(until: until, now: now)
        case .serverError:
            return SimHTTPResponse(status: 503, headers: [], body: Array("Service Unavailable".utf8), contentType: "text/plain")
        }

        if isSource { return source(path: path, parameters, now: now) }
        let endpoint = SimEndpoint.find(method: method, path: path)!
        let weight = endpoint.weight(parameters)
        switch state.withLock({ $0.limits.admit(weight: weight, isOrder: endpoint.isOrder, now: now) }) {
        case .proceed: break
        case .banned(let until): return banned(until: until, now: now)
        case .tooMany(let code, let message, let retryAfter):
            var reply = error(429, code, message)
            reply.headers.append(("Retry-After", "\(retryAfter)"))
            return reply
        }

        if endpoint.security != .none {
            guard let apiKey, !apiKey.isEmpty else { return error(401, -2014, "API-key format invalid.") }
            guard let key = configuration.apiKeys.first(where: { $0.apiKey == apiKey }) else {
                return error(401, -2015, "Invalid API-key, IP, or permissions for action.")
            }
            if endpoint.security == .signed {
                if let refusal = checkSigned(parameters, key: key, now: now) { return refusal }
            }
        }
        do throws(SimRejection) {
            return try await handle(endpoint, parameters, now: now)
        } catch {
            return self.error(error.code == -2014 || error.code == -2015 ? 401 : 400, error.code, error.message)
        }
    }

    /// Binance's timing security (rest-api.md): the timestamp must be within `recvWindow`
    /// behind the server and less than a second ahead of it; then the HMAC must match.
    private func checkSigned(_ parameters: SimParameters, key: SimAPIKey, now: Int64) -> SimHTTPResponse? {
        guard let timestampText = parameters["timestamp"], let timestamp = Int64(timestampText) else {
            return error(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        }
        let recvWindow = parameters["recvWindow"].flatMap { Int64($0) } ?? 5000
        guard recvWindow <= 60_000 else { return error(400, -1131, "recvWindow must be less than 60000") }
        if timestamp >= now + 1000 {
            return error(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        }
        if now - timestamp > recvWindow {
            return error(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        }
        guard let signature = parameters.signature else {
            return error(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        }
        guard key.verifies(payload: parameters.signedPayload, signature: signature) else {
            return error(400, -1022, "Signature for this request is not valid.")
        }
        return nil
    }

    /// A path Binance does not serve is answered by its front web server, not the API: HTTP
    /// 404 with an HTML page and no Binance error code (what clients report seeing from
    /// api.binance.com for a mistyped path or API version), before any rate limit counts it.
    static let notFound = SimHTTPResponse(
        status: 404, headers: [],
        body: Array("<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n".utf8),
        contentType: "text/html")

    func error(_ status: Int, _ code: Int, _ message: String) -> SimHTTPResponse {
        SimHTTPResponse(status: status, headers: [], body: json(BinanceErrorBody(code: code, msg: message)))
    }

    private func banned(until: Int64, now: Int64) -> SimHTTPResponse {
        var reply = error(418, -1003, "Way too much request weight used; IP banned until \(until). Please use WebSocket Streams for live updates to avoid bans.")
        reply.headers.append(("Retry-After", "\(max(1, (until - now + 999) / 1000))"))
        return reply
    }

    func json(_ value: some Encodable) -> [UInt8] { SimJSON.encode(value) }

    func ok(_ value: some Encodable) -> SimHTTPResponse {
        SimHTTPResponse(status: 200, headers: [], body: json(value))
    }

    // MARK: Endpoints

    private func handle(_ endpoint: SimEndpoint, _ p: SimParameters, now: Int64) async throws(SimRejection) -> SimHTTPResponse {
        let places = configuration.decimals
        switch endpoint {
        case .ping:
            return ok(EmptyResponse())
        case .time:
            return ok(ServerTimeResponse(serverTime: now))
        case .exchangeInfo:
            return ok(exchangeInfo(p, now: now))
        case .klines:
            let symbol = try knownSymbol(p)
            guard let intervalText = p["interval"] else { throw missing("interval") }
            let interval = state.withLock { $0.feed.interval }
            guard intervalText == interval.rawValue else { throw SimRejection(code: -1120, message: "Invalid interval.") }
            let limit = try integer(p, "limit", default: 500, range: 1...1000)
            let klines = state.withLock {
                $0.feed.klines(symbol: symbol, startTime: p["startTime"].flatMap { Int64($0) }, endTime: p["endTime"].flatMap { Int64($0) }, limit: limit)
            } ?? []
            return ok(klines.map { KlineRow($0, decimals: places) })
        case .tickerPrice:
            if p["symbol"] != nil {
                let symbol = try knownSymbol(p)
                let price = state.withLock { $0.core.lastPrice(symbol) } ?? .zero
                return ok(TickerPriceResponse(symbol: symbol.rawValue, price: BinanceDecimal.format(price, places: places)))
            }
            let all = state.withLock { state in
                state.core.symbols.map { spec in (spec.symbol, state.core.lastPrice(spec.symbol) ?? .zero) }
            }
            return ok(all.map { TickerPriceResponse(symbol: $0.0.rawValue, price: BinanceDecimal.format($0.1, places: places)) })
        case .depth:
            let symbol = try knownSymbol(p)
            let limit = try integer(p, "limit", default: 100, range: 1...5000)
            guard let book = state.withLock({ $0.core.depth(symbol, limit: limit) }) else { throw SimRejection(code: -1121, message: "Invalid symbol.") }
            let format = { (level: (ExactDecimal, ExactDecimal)) in
                [BinanceDecimal.format(level.0, places: places), BinanceDecimal.format(level.1, places: places)]
            }
            return ok(DepthResponse(lastUpdateId: book.lastUpdateId, bids: book.bids.map(format), asks: book.asks.map(format)))
        case .account:
            return ok(account(now: now))
        case .openOrders:
            let symbol = p["symbol"] == nil ? nil : try knownSymbol(p)
            let orders = state.withLock { $0.core.openOrders(symbol: symbol) }
            return ok(orders.map { SimWire.orderResponse($0, form: .query, places: places) })
        case .newOrder, .testOrder:
            let params = try orderParameters(p)
            if endpoint == .testOrder {
                try state.withLock { state throws(SimRejection) in try state.core.validate(params) }
                return ok(EmptyResponse())
            }
            return try await placeOrder(params, p, now: now)
        case .queryOrder:
            let symbol = try knownSymbol(p)
            let (orderId, clientId) = try orderReference(p)
            let order = try state.withLock { state throws(SimRejection) in
                try state.core.order(symbol: symbol, orderId: orderId, origClientOrderId: clientId)
            }
            return ok(SimWire.orderResponse(order, form: .query, places: places))
        case .cancelOrder:
            let symbol = try knownSymbol(p)
            let (orderId, clientId) = try orderReference(p)
            let (order, events) = try state.withLock { state throws(SimRejection) in
                try state.core.cancel(symbol: symbol, orderId: orderId, origClientOrderId: clientId, now: now)
            }
            broadcast(events)
            var response = SimWire.orderResponse(order, form: .cancel, places: places)
            response.origClientOrderId = order.clientOrderId
            response.clientOrderId = p["newClientOrderId"] ?? order.clientOrderId
            return ok(response)
        case .bookTicker:
            let symbols = p["symbol"] != nil ? [try knownSymbol(p)] : configuration.symbols.map(\.symbol)
            let tickers = state.withLock { state in symbols.map { ($0, state.core.bookTicker($0)) } }.map { symbol, book in
                BookTickerResponse(symbol: symbol.rawValue,
                                   bidPrice: BinanceDecimal.format(book?.bidPrice ?? .zero, places: places),
                                   bidQty: BinanceDecimal.format(book?.bidQty ?? .zero, places: places),
                                   askPrice: BinanceDecimal.format(book?.askPrice ?? .zero, places: places),
                                   askQty: BinanceDecimal.format(book?.askQty ?? .zero, places: places))
            }
            return p["symbol"] != nil ? ok(tickers[0]) : ok(tickers)
        case .avgPrice:
            return ok(averagePrice(try knownSymbol(p), now: now))
        case .ticker24hr:
            if p["symbol"] != nil { return ok(ticker24hr(try knownSymbol(p), now: now)) }
            return ok(configuration.symbols.map { ticker24hr($0.symbol, now: now) })
        case .allOrders:
            let symbol = try knownSymbol(p)
            let limit = try integer(p, "limit", default: 500, range: 1...1000)
            let orders = state.withLock {
                $0.core.allOrders(symbol: symbol, orderId: p["orderId"].flatMap { Int64($0) }, startTime: p["startTime"].flatMap { Int64($0) },
                                  endTime: p["endTime"].flatMap { Int64($0) }, limit: limit)
            }
            return ok(orders.map { SimWire.orderResponse($0, form: .query, places: places) })
        case .cancelOpenOrders:
            let symbol = try knownSymbol(p)
            let (orders, events, lists) = try state.withLock { state throws(SimRejection) in
                let (orders, events) = try state.core.cancelAll(symbol: symbol, now: now)
                let lists = Set(orders.map(\.orderListId)).filter { $0 >= 0 }.compactMap { try? state.core.orderList(orderListId: $0, listClientOrderId: nil) }
                return (orders, events, lists)
            }
            broadcast(events)
            return SimHTTPResponse(status: 200, headers: [], body: SimWire.canceledOpenOrders(orders, lists: lists, places: places))
        case .commission:
            return ok(commission(try knownSymbol(p)))
        case .orderRateLimit:
            let counts = state.withLock { $0.limits.counts(now: now) }.filter { $0.rule.rateLimitType == "ORDERS" }
            return ok(counts.map { OrderRateLimitEntry(rateLimitType: $0.rule.rateLimitType, interval: $0.rule.interval,
                                                       intervalNum: $0.rule.intervalNum, limit: $0.rule.limit, count: $0.count) })
        case .trades, .aggTrades:
            return try publicTrades(endpoint, p)
        case .newOCO, .cancelOrderList, .queryOrderList, .allOrderLists, .openOrderLists:
            return try orderLists(endpoint, p, now: now)
        case .myTrades:
            let symbol = try knownSymbol(p)
            let limit = try integer(p, "limit", default: 500, range: 1...1000)
            let trades = state.withLock {
                $0.core.trades(symbol: symbol, orderId: p["orderId"].flatMap { Int64($0) }, fromId: p["fromId"].flatMap { Int64($0) }, limit: limit)
            }
            return ok(trades.map { SimWire.trade($0, places: places) })
        case .createListenKey:
            let key = state.withLock { state in
                state.nextListenKey += 1
                let key = SimWire.listenKey(number: state.nextListenKey)
                state.listenKeys[key] = now + configuration.listenKeyLifetimeMilliseconds
                return key
            }
            return ok(ListenKeyResponse(listenKey: key))
        case .keepAliveListenKey, .closeListenKey:
            guard let key = p["listenKey"] else { throw missing("listenKey") }
            let known = state.withLock { state in
                guard let expiry = state.listenKeys[key], expiry > now else { return false }
                if endpoint == .closeListenKey {
                    state.listenKeys[key] = nil
                } else {
                    state.listenKeys[key] = now + configuration.listenKeyLifetimeMilliseconds
                }
                return true
            }
            guard known else { throw SimRejection(code: -1125, message: "This listenKey does not exist.") }
            return ok(EmptyResponse())
        }
    }

    private func placeOrder(_ params: SimOrderParams, _ p: SimParameters, now: Int64) async throws(SimRejection) -> SimHTTPResponse {
        let fate = state.withLock { $0.faults.orderFate() }
        if case .lost = fate {
            // Lost before the matching engine: nothing is placed, and no answer comes in time.
            try? await Task.sleep(for: .milliseconds(faults.ackDelayMilliseconds))
            return SimHTTPResponse(status: 503, headers: [], body: Array("Service Unavailable".utf8), contentType: "text/plain")
        }
        if case .lateExecution(let milliseconds) = fate {
            // Accepted by the API, held before the matching engine: the reply goes out now, the
            // order executes later, and only if its recvWindow still allows it then.
            let timestamp = p["timestamp"].flatMap { Int64($0) } ?? now
            let recvWindow = p["recvWindow"].flatMap { Int64($0) } ?? 5000
            Task {
                try? await Task.sleep(for: .milliseconds(milliseconds))
                let later = self.serverTime
                guard later - timestamp <= recvWindow else { return }
                let placed = try? self.state.withLock { state throws(SimRejection) in
                    let placed = try state.core.place(params, now: later)
                    state.placements[placed.order.clientOrderId, default: 0] += 1
                    return placed
                }
                if let placed { self.broadcast(placed.events) }
            }
            return SimHTTPResponse(status: 503, headers: [], body: Array("Service Unavailable".utf8), contentType: "text/plain")
        }
        let (order, events) = try state.withLock { state throws(SimRejection) in
            let placed = try state.core.place(params, now: now)
            state.placements[placed.order.clientOrderId, default: 0] += 1
            return placed
        }
        broadcast(events)
        switch fate {
        case .delayedAck(let milliseconds):
            try? await Task.sleep(for: .milliseconds(milliseconds))
        case .executedThenServerError:
            return SimHTTPResponse(status: 503, headers: [], body: Array("Service Unavailable".utf8), contentType: "text/plain")
        case .executedThenTimeout:
            // An internal timeout, so a 5xx with Binance's JSON error (rest-api.md, "HTTP Return Codes").
            return error(503, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.")
        default:
            break
        }
        let form: SimWire.OrderForm = switch p["newOrderRespType"] ?? (params.type == .market || params.type == .limit ? "FULL" : "ACK") {
        case "ACK": .ack
        case "RESULT": .result
        default: .full
        }
        var reply = ok(SimWire.orderResponse(order, form: form, places: configuration.decimals))
        if case .truncatedReply = fate { reply.body = Array(reply.body.prefix(reply.body.count / 2)) }
        return reply
    }

    private func exchangeInfo(_ p: SimParameters, now: Int64) -> ExchangeInfoResponse {
        var wanted: Set<String>?
        if let one = p["symbol"] { wanted = [one] }
        if let many = p["symbols"] {
            wanted = Set(many.trimmingCharacters(in: ["[", "]"]).split(separator: ",").map { $0.trimmingCharacters(in: ["\"", " "]) })
        }
        let symbols = configuration.symbols.filter { wanted?.contains($0.symbol.rawValue) ?? true }.map(SimWire.symbolInfo)
        return ExchangeInfoResponse(serverTime: now, rateLimits: configuration.rateLimits, exchangeFilters: [], symbols: symbols)
    }

    private func account(now: Int64) -> AccountResponse {
        let balances = state.withLock { $0.core.balances() }
        let places = configuration.decimals
        let fees = configuration.fees
        func basisPoints(_ rate: ExactDecimal) -> Int {
            Int((rate * ExactDecimal(10_000)).doubleApproximation.rounded())
        }
        return AccountResponse(
            makerCommission: basisPoints(fees.makerRate), takerCommission: basisPoints(fees.takerRate),
            commissionRates: CommissionRates(maker: BinanceDecimal.format(fees.makerRate, places: places),
                                             taker: BinanceDecimal.format(fees.takerRate, places: places)),
            updateTime: now,
            balances: balances.map {
                AccountBalance(asset: $0.asset.rawValue, free: BinanceDecimal.format($0.free, places: places),
                               locked: BinanceDecimal.format($0.locked, places: places))
            })
    }

    // MARK: Parameters

    func knownSymbol(_ p: SimParameters) throws(SimRejection) -> Symbol {
        guard let text = p["symbol"] else { throw missing("symbol") }
        guard let symbol = try? Symbol(text), configuration.symbols.contains(where: { $0.symbol == symbol }) else {
            throw SimRejection(code: -1121, message: "Invalid symbol.")
        }
        return symbol
    }

    func missing(_ name: String) -> SimRejection {
        SimRejection(code: -1102, message: "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.")
    }

    func integer(_ p: SimParameters, _ name: String, default value: Int, range: ClosedRange<Int>) throws(SimRejection) -> Int {
        guard let text = p[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw SimRejection(code: -1100, message: "Illegal characters found in parameter '\(name)'; legal range is '\(range.lowerBound)..\(range.upperBound)'.")
        }
        return number
    }

    func decimal(_ p: SimParameters, _ name: String) throws(SimRejection) -> ExactDecimal? {
        guard let text = p[name] else { return nil }
        guard let value = try? ExactDecimal(parsing: text), !value.isNegative else {
            throw SimRejection(code: -1100, message: "Illegal characters found in parameter '\(name)'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")
        }
        return value
    }

    private func orderParameters(_ p: SimParameters) throws(SimRejection) -> SimOrderParams {
        let symbol = try knownSymbol(p)
        guard let sideText = p["side"] else { throw missing("side") }
        guard let side = Side(rawValue: sideText) else { throw SimRejection(code: -1117, message: "Invalid side.") }
        guard let typeText = p["type"] else { throw missing("type") }
        guard let type = OrderType(rawValue: typeText) else { throw SimRejection(code: -1116, message: "Invalid orderType.") }
        var timeInForce: TimeInForce?
        if let text = p["timeInForce"] {
            guard let value = TimeInForce(rawValue: text) else { throw SimRejection(code: -1115, message: "Invalid timeInForce.") }
            timeInForce = value
        }
        if let id = p["newClientOrderId"], (try? ClientOrderId(id)) == nil {
            throw SimRejection(code: -1100, message: "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
        }
        return SimOrderParams(symbol: symbol, side: side, type: type, timeInForce: timeInForce, quantity: try decimal(p, "quantity"),
                              quoteOrderQty: try decimal(p, "quoteOrderQty"), price: try decimal(p, "price"),
                              stopPrice: try decimal(p, "stopPrice"), newClientOrderId: p["newClientOrderId"],
                              selfTradePreventionMode: p["selfTradePreventionMode"])
    }

    private func orderReference(_ p: SimParameters) throws(SimRejection) -> (Int64?, String?) {
        let orderId = p["orderId"].flatMap { Int64($0) }
        let clientId = p["origClientOrderId"]
        guard orderId != nil || clientId != nil else {
            throw SimRejection(code: -1102, message: "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")
        }
        return (orderId, clientId)
    }

    // MARK: Streams

    /// What a WebSocket upgrade path subscribes to, or nil for a path Binance would refuse.
    func streamSubscription(path: String) -> (streams: Set<String>, combined: Bool, userData: Bool)? {
        let parts = path.split(separator: "?", maxSplits: 1)
        let route = parts.first.map(String.init) ?? ""
        if route == "/stream" || route == "/stream/" {
            guard parts.count == 2 else { return nil }
            for pair in parts[1].split(separator: "&") where pair.hasPrefix("streams=") {
                let names = SimParameters.percentDecoded(pair.dropFirst("streams=".count)).split(separator: "/").map { $0.lowercased() }
                return names.isEmpty ? nil : (Set(names), true, false)
            }
            return nil
        }
        guard route.hasPrefix("/ws/") else { return nil }
        let name = String(route.dropFirst("/ws/".count))
        let now = serverTime
        let isListenKey = state.withLock { state in state.listenKeys[name].map { $0 > now } ?? false }
        if isListenKey { return ([], false, true) }
        return name.contains("@") ? ([name.lowercased()], false, false) : nil
    }

    private func broadcast(klines: [Kline], tickers: [BookTicker], tradeIds: [Int64]) {
        let places = configuration.decimals
        for (index, kline) in klines.enumerated() {
            let base = kline.symbol.rawValue.lowercased()
            let eventTime = Timestamp(milliseconds: kline.closeTime.milliseconds + 1)
            let update = KlineUpdate(eventTime: eventTime, kline: kline)
            let klineStream = "\(base)@kline_\(kline.interval.rawValue)"
            broadcaster.publishMarket(stream: klineStream,
                                      raw: BinanceStreamEncoder.kline(update, combined: false, decimals: places),
                                      combined: BinanceStreamEncoder.kline(update, combined: true, decimals: places))
            let trade = AggregateTrade(eventTime: eventTime, symbol: kline.symbol, aggregateTradeId: tradeIds[index], price: kline.close,
                                       quantity: kline.volume, firstTradeId: tradeIds[index], lastTradeId: tradeIds[index],
                                       tradeTime: kline.closeTime, buyerIsMaker: false)
            broadcaster.publishMarket(stream: "\(base)@aggTrade",
                                      raw: BinanceStreamEncoder.aggTrade(trade, combined: false, decimals: places),
                                      combined: BinanceStreamEncoder.aggTrade(trade, combined: true, decimals: places))
        }
        for ticker in tickers {
            broadcaster.publishMarket(stream: "\(ticker.symbol.rawValue.lowercased())@bookTicker",
                                      raw: BinanceStreamEncoder.bookTicker(ticker, combined: false, decimals: places),
                                      combined: BinanceStreamEncoder.bookTicker(ticker, combined: true, decimals: places))
        }
    }

    /// Engine events as user data messages, in the order the engine produced them.
    func broadcast(_ events: [SimEvent]) {
        guard !events.isEmpty else { return }
        let places = configuration.decimals
        for event in events {
            broadcaster.publishUserData(SimWire.userDataMessage(event, places: places))
        }
    }

    // MARK: Control endpoints

    /// `POST /sim/faults` (partial JSON of `SimFaults`), `GET /sim/faults`,
    /// `POST /sim/advance?steps=N`, `POST /sim/drop-streams`, `POST /sim/shock?factor=F`.
    private func control(method: String, path: String, parameters: SimParameters, body: String?) -> SimHTTPResponse {
        switch (method, path) {
        case ("GET", "/sim/faults"):
            return ok(faults)
        case ("POST", "/sim/faults"):
            do {
                let update = try JSONDecoder().decode(SimFaultsUpdate.self, from: Data((body ?? "{}").utf8))
                updateFaults { $0.apply(update) }
                return ok(faults)
            } catch {
                return self.error(400, -1100, "Malformed fault settings: \(error)")
            }
        case ("POST", "/sim/advance"):
            let steps = parameters["steps"].flatMap { Int($0) } ?? 1
            return ok(["published": advance(steps: steps).count])
        case ("POST", "/sim/drop-streams"):
            return ok(["dropped": dropStreamConnections()])
        case ("POST", "/sim/shock"):
            guard let text = parameters["factor"], let factor = try? ExactDecimal(parsing: text), factor.isPositive else {
                return error(400, -1100, "A shock needs factor, a positive decimal such as 0.5 (a crash to half) or 2.")
            }
            do {
                try shock(by: factor)
                return ok(["factor": text])
            } catch {
                return self.error(400, -1100, error.message)
            }
        default:
            return error(404, -1000, "Unknown simulator control \(method) \(path).")
        }
    }
}
