public import AsyncHTTPClient
public import GordonDomain
public import GordonKernel
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Binance spot's REST API: market data, account, orders and user-data-stream keys.
///
/// Every request passes the shared `RateLimiter` first and feeds the server's counts back
/// into it. Signed requests carry a `timestamp` in server time (from `ServerClock`) and
/// `recvWindow`; a -1021 resyncs the clock and retries once, which is safe because Binance
/// rejected the request before it reached the matching engine. The query string, which
/// holds the signature, never reaches a log line or an error.
public final class BinanceRESTClient: Sendable {
    public let configuration: BinanceClientConfiguration
    public let limiter: RateLimiter
    private let http: HTTPClient
    private let signer: RequestSigner?
    private let clock: Mutex<ServerClock>
    /// The `X-MBX-*` counts of the latest response, re-applied when exchangeInfo brings new
    /// rules: the response that carried the rules also carried the counts for them.
    private let latestLimitHeaders = Mutex<[(String, String)]>([])
    private let logger: Logger

    public init(configuration: BinanceClientConfiguration, httpClient: HTTPClient = .shared,
                logger: Logger = Logger(label: "gordon.exchange")) {
        self.configuration = configuration
        self.http = httpClient
        self.logger = logger
        self.limiter = RateLimiter(maximumWait: configuration.maximumRateLimitWait,
                                   sharedFile: configuration.sharedRateLimitPath.map(SharedRateLimitFile.init(path:)), logger: logger)
        self.signer = configuration.credentials.map { RequestSigner(secretKey: $0.secretKey) }
        self.clock = Mutex(ServerClock())
    }

    /// Binance's clock as this client estimates it.
    public var serverNowMilliseconds: Int64 {
        clock.withLock { $0.serverTime(localNowMs: wallClockMilliseconds()) }
    }

    // MARK: Market data

    public func ping() async throws(GordonError) {
        _ = try await send(.GET, "/api/v3/ping", weight: 1)
    }

    /// `GET /api/v3/time`; also takes a clock sample (offset from the round trip's midpoint).
    @discardableResult
    public func synchronizeClock() async throws(GordonError) -> Int64 {
        let sentAt = wallClockMilliseconds()
        let response = try await decode(ServerTimeResponse.self, from: send(.GET, "/api/v3/time", weight: 1), endpoint: "/api/v3/time")
        let receivedAt = wallClockMilliseconds()
        _ = clock.withLock { $0.observe(serverTimeMs: response.serverTime, requestSentAtMs: sentAt, responseReceivedAtMs: receivedAt) }
        return response.serverTime
    }

    /// After Binance refused a timestamp (-1021): the samples in use proved wrong, however
    /// tight their round trips, so they are dropped and a new one is taken.
    public func resynchronizeClock() async throws(GordonError) {
        clock.withLock { $0.invalidate() }
        try await synchronizeClock()
    }

    /// `GET /api/v3/exchangeInfo` (weight 20); its `rateLimits` replace the limiter's rules.
    public func exchangeInfo(symbols: [Symbol] = []) async throws(GordonError) -> ExchangeInfoResponse {
        var query = QueryParameters()
        if symbols.count == 1 {
            query.append("symbol", symbols[0].rawValue)
        } else if !symbols.isEmpty {
            query.append("symbols", "[" + symbols.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]")
        }
        let info = try await decode(ExchangeInfoResponse.self, from: send(.GET, "/api/v3/exchangeInfo", query, weight: 20),
                                    endpoint: "/api/v3/exchangeInfo")
        if !info.rateLimits.isEmpty {
            let now = serverNowMilliseconds
            await limiter.update(rules: info.rateLimits, now: now)
            await limiter.observe(headers: latestLimitHeaders.withLock { $0 }, now: now)
        }
        return info
    }

    /// `GET /api/v3/klines` (weight 2), oldest first. A kline is closed once its close time
    /// has passed in server time; the one still forming comes back with `isClosed == false`.
    public func klines(symbol: Symbol, interval: Interval, startTime: Int64? = nil, endTime: Int64? = nil,
                       limit: Int = 500) async throws(GordonError) -> [Kline] {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        query.append("interval", interval.rawValue)
        if let startTime { query.append("startTime", "\(startTime)") }
        if let endTime { query.append("endTime", "\(endTime)") }
        query.append("limit", "\(min(max(limit, 1), 1000))")
        let rows = try await decode([KlineRow].self, from: send(.GET, "/api/v3/klines", query, weight: 2), endpoint: "/api/v3/klines")
        let now = serverNowMilliseconds
        var klines: [Kline] = []
        klines.reserveCapacity(rows.count)
        for row in rows {
            klines.append(try row.kline(symbol: symbol, interval: interval, isClosed: row.closeTime < now))
        }
        return klines
    }

    /// `GET /api/v3/ticker/price` for one symbol (weight 2).
    public func tickerPrice(symbol: Symbol) async throws(GordonError) -> Price {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        let ticker = try await decode(TickerPriceResponse.self, from: send(.GET, "/api/v3/ticker/price", query, weight: 2),
                                      endpoint: "/api/v3/ticker/price")
        return try Price(parsing: ticker.price)
    }

    /// `GET /api/v3/depth`; the weight grows with `limit` as Binance documents.
    public func depth(symbol: Symbol, limit: Int = 100) async throws(GordonError) -> DepthResponse {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        query.append("limit", "\(limit)")
        let weight = switch limit { case ...100: 5; case ...500: 25; case ...1000: 50; default: 250 }
        return try await decode(DepthResponse.self, from: send(.GET, "/api/v3/depth", query, weight: weight), endpoint: "/api/v3/depth")
    }

    // MARK: Account (signed)

    /// `GET /api/v3/account` (weight 20): balances and commission rates.
    public func account() async throws(GordonError) -> AccountResponse {
        var query = QueryParameters()
        query.append("omitZeroBalances", "true")
        return try await decode(AccountResponse.self, from: send(.GET, "/api/v3/account", query, weight: 20, security: .signed),
                                endpoint: "/api/v3/account")
    }

    /// `GET /api/v3/openOrders`: weight 6 for one symbol, 80 for all.
    public func openOrders(symbol: Symbol?) async throws(GordonError) -> [OrderResponse] {
        var query = QueryParameters()
        if let symbol { query.append("symbol", symbol.rawValue) }
        return try await decode([OrderResponse].self,
                                from: send(.GET, "/api/v3/openOrders", query, weight: symbol == nil ? 80 : 6, security: .signed),
                                endpoint: "/api/v3/openOrders")
    }

    /// `GET /api/v3/order` by client order id (weight 4). Throws `unknownOrder` (-2013) if
    /// no order with this id exists.
    public func queryOrder(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> OrderResponse {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        query.append("origClientOrderId", clientOrderId.rawValue)
        return try await decode(OrderResponse.self, from: send(.GET, "/api/v3/order", query, weight: 4, security: .signed),
                                endpoint: "/api/v3/order")
    }

    /// `DELETE /api/v3/order` by client order id (weight 1), from the limits' cancel reserve.
    public func cancelOrder(symbol: Symbol, clientOrderId: ClientOrderId) async throws(GordonError) -> OrderResponse {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        query.append("origClientOrderId", clientOrderId.rawValue)
        return try await decode(OrderResponse.self, from: send(.DELETE, "/api/v3/order", query, weight: 1, priority: .cancel, security: .signed),
                                endpoint: "/api/v3/order")
    }

    /// `POST /api/v3/order/test` (weight 1): every check of a real placement, nothing placed.
    public func testOrder(_ order: NewOrder) async throws(GordonError) {
        _ = try await send(.POST, "/api/v3/order/test", order.parameters, weight: 1, security: .signed)
    }

    /// `GET /api/v3/myTrades` (weight 20, or 5 with `orderId`).
    public func myTrades(symbol: Symbol, orderId: Int64? = nil, fromId: Int64? = nil, limit: Int = 500) async throws(GordonError) -> [MyTradeResponse] {
        var query = QueryParameters()
        query.append("symbol", symbol.rawValue)
        if let orderId { query.append("orderId", "\(orderId)") }
        if let fromId { query.append("fromId", "\(fromId)") }
        query.append("limit", "\(min(max(limit, 1), 1000))")
        return try await decode([MyTradeResponse].self,
                                from: send(.GET, "/api/v3/myTrades", query, weight: orderId == nil ? 20 : 5, security: .signed),
                                endpoint: "/api/v3/myTrades")
    }

    // MARK: Orders

    /// One `POST /api/v3/order` attempt (weight 1, one order). Prefer `placeOrder`, which
    /// never places an order twice; this is the raw call it is built on.
    public func submitOrderOnce(_ order: NewOrder, timestamp: Int64? = nil) async throws(GordonError) -> OrderResponse {
        try await submitOrderOnce(order, timestamp: timestamp, record: nil)
    }

    private func submitOrderOnce(_ order: NewOrder, timestamp: Int64?, record: SendRecord?) async throws(GordonError) -> OrderResponse {
        try await decode(OrderResponse.self,
                         from: send(.POST, "/api/v3/order", order.parameters, weight: 1, isOrder: true, security: .signed,
                                    timestamp: timestamp, record: record),
                         endpoint: "/api/v3/order")
    }

    /// Places `order` exactly once, however the network behaves.
    ///
    /// When an attempt's fate is unknown (timeout, dropped connection, 5xx), the order may be
    /// on the book. Binance forwards a request to the matching engine only while
    /// `serverTime − timestamp ≤ recvWindow`, so once that window (plus a settle margin) has
    /// passed in server time, a query by client order id is final: found means placed (and
    /// is returned), -2013 means never placed, and only then is it resent — under the same
    /// client order id, so even a resend that races a late original is refused by Binance as
    /// a duplicate while the original is open. A -2010 "Duplicate order sent." is answered
    /// the same way: the open order with this id is ours.
    ///
    /// Binance keeps `newClientOrderId` unique only among open orders: once an order has
    /// filled, expired or been cancelled, the same id is accepted again as a new order. So a
    /// submission that may not be the first (an intent redelivered after a crash, a failed
    /// commit, a lost ack) must say so with `history`: the order is then looked for before
    /// anything is sent, and sent only once the earlier send can certainly no longer arrive.
    ///
    /// Every failure after which the order may exist is `orderOutcomeUnknown`, with the client
    /// order id, and nothing else is: any other error means the order is not on the book. The
    /// executor reconciles on it.
    public func placeOrder(_ order: NewOrder, history: PlacementHistory = .firstSubmission) async throws(GordonError) -> OrderResponse {
        if case .resubmission(let lastSentServerTimestamp) = history {
            let earlier = try await orderMayExist(order) { () async throws(GordonError) in
                try await findEarlierPlacement(order, lastSentServerTimestamp: lastSentServerTimestamp)
            }
            if let earlier { return earlier }
        }
        var lastUnknown: GordonError?
        for attempt in 1...configuration.maximumPlacementAttempts {
            let record = SendRecord()
            do {
                return try await submitOrderOnce(order, timestamp: nil, record: record)
            } catch where Self.placementFateUnknown(error) {
                logger.warning("order placement fate unknown; resolving by query", metadata: [
                    "clientOrderId": "\(order.clientOrderId)", "symbol": "\(order.symbol)", "attempt": "\(attempt)", "error": "\(error.code.rawValue)",
                ])
                lastUnknown = error
                // The last send decides: after a -1021 the order went out again with a new timestamp.
                guard let send = record.last else { continue }  // nothing left this process: nothing to resolve
                let placed = try await orderMayExist(order) { () async throws(GordonError) in
                    try await resolveUnknownPlacement(order, after: send)
                }
                if let placed { return placed }
            } catch where error.code == .duplicateOrder {
                // An open order has this id: it is ours, and it certainly exists.
                return try await orderMayExist(order) { () async throws(GordonError) in
                    try await queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId)
                }
            }
        }
        throw lastUnknown ?? GordonError(.exchangeUnavailable, "order placement failed", context: ["clientOrderId": order.clientOrderId.rawValue])
    }

    /// A reply to an order that leaves its fate open: no reply, a 5xx or -1007, or a body that
    /// is not the documented JSON (a 2xx cut short is a placed order whose answer was lost).
    private static func placementFateUnknown(_ error: GordonError) -> Bool {
        [.exchangeTimeout, .exchangeUnavailable, .exchangeMalformedResponse].contains(error.code)
    }

    /// `body` resolves an order that may exist; if it fails (a ban, refused credentials,
    /// cancellation), the caller must not take that for "not placed".
    private func orderMayExist<T>(_ order: NewOrder, _ body: () async throws(GordonError) -> T) async throws(GordonError) -> T {
        do {
            return try await body()
        } catch {
            logger.error("order may be on the book and could not be resolved; reconcile it", metadata: [
                "clientOrderId": "\(order.clientOrderId)", "symbol": "\(order.symbol)", "error": "\(error.code.rawValue)",
            ])
            throw GordonError(
                .orderOutcomeUnknown,
                "order \(order.clientOrderId.rawValue) may be on the book, and resolving it failed: \(error.message)",
                context: ["clientOrderId": order.clientOrderId.rawValue, "symbol": "\(order.symbol)", "cause": error.code.rawValue],
                underlying: error)
        }
    }

    /// A resubmission: the order if an earlier send placed it, nil once no earlier send can
    /// still place it. An order found at once needs no wait; otherwise the earlier send may
    /// still be on its way, so the query is repeated after its `recvWindow`.
    private func findEarlierPlacement(_ order: NewOrder, lastSentServerTimestamp: Int64?) async throws(GordonError) -> OrderResponse? {
        do {
            let found = try await queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId)
            logger.notice("resubmitted order already exists; not sent again", metadata: [
                "clientOrderId": "\(order.clientOrderId)", "status": "\(found.status)",
            ])
            return found
        } catch where error.code == .unknownOrder {}
        // The earlier send's age from its own timestamp, in server time (the only clock that
        // survives a restart); unknown, it is taken as sent just now, the latest it can have left.
        let age = lastSentServerTimestamp.map { max(0, serverNowMilliseconds - $0) } ?? 0
        let send = PlacementSend(serverTimestamp: lastSentServerTimestamp ?? serverNowMilliseconds,
                                 sentAt: ContinuousClock.now - .milliseconds(age))
        return try await resolveUnknownPlacement(order, after: send)
    }

    /// The order if the unknown attempt placed it, nil if it certainly did not.
    ///
    /// Binance forwards a request only while `serverTime − timestamp ≤ recvWindow`. The wait
    /// is counted on the monotonic clock from the moment the last send's timestamp was taken
    /// (a wall clock step, as NTP makes on a Pi at boot, must not shorten it), plus
    /// `orderSettleMargin` for the error of the server-time estimate that timestamp came from
    /// and the matching engine's own latency.
    private func resolveUnknownPlacement(_ order: NewOrder, after send: PlacementSend) async throws(GordonError) -> OrderResponse? {
        let final = send.sentAt + .milliseconds(configuration.recvWindowMilliseconds) + configuration.orderSettleMargin
        var backoff = Duration.milliseconds(100)
        while true {
            let wait = final - ContinuousClock.now
            if wait > .zero { try await sleep(wait) }
            do {
                return try await queryOrder(symbol: order.symbol, clientOrderId: order.clientOrderId)
            } catch where error.code == .unknownOrder {
                return nil
            } catch where error.isRetryable && error.code != .exchangeBanned {
                // The query itself failed; the order's fate is still unknown, so keep asking.
                logger.warning("order query failed while resolving a placement; retrying",
                               metadata: ["clientOrderId": "\(order.clientOrderId)", "error": "\(error.code.rawValue)"])
                try await sleep(backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    // MARK: User data stream keys (API key only)

    /// `POST /api/v3/userDataStream` (weight 2): a listen key valid for 60 minutes.
    public func createListenKey() async throws(GordonError) -> String {
        try await decode(ListenKeyResponse.self, from: send(.POST, "/api/v3/userDataStream", weight: 2, security: .apiKey),
                         endpoint: "/api/v3/userDataStream").listenKey
    }

    /// `PUT /api/v3/userDataStream`: extends the key by 60 minutes (Binance asks every 30).
    public func keepAliveListenKey(_ listenKey: String) async throws(GordonError) {
        var query = QueryParameters()
        query.append("listenKey", listenKey)
        _ = try await send(.PUT, "/api/v3/userDataStream", query, weight: 2, security: .apiKey)
    }

    /// `DELETE /api/v3/userDataStream`: closes the stream.
    public func closeListenKey(_ listenKey: String) async throws(GordonError) {
        var query = QueryParameters()
        query.append("listenKey", listenKey)
        _ = try await send(.DELETE, "/api/v3/userDataStream", query, weight: 2, security: .apiKey)
    }

    // MARK: WebSocket API

    /// The `userDataStream.subscribe.signature` frame for the WebSocket API (weight 2, counted
    /// against the same IP limit as REST), signed with a fresh server-time timestamp. A
    /// `Secret`, because it carries the API key.
    public func userDataSubscriptionRequest(id: String) async throws(GordonError) -> Secret {
        guard let credentials = configuration.credentials, let signer else {
            throw GordonError(.exchangeConfigInvalid, "the user data stream needs an API key, and this client has none")
        }
        try await limiter.acquire(weight: 2, isOrder: false, endpoint: WebSocketAPIMessages.subscribeMethod,
                                  now: { [self] in serverNowMilliseconds })
        return WebSocketAPIMessages.subscribeRequest(id: id, apiKey: credentials.apiKey, recvWindow: configuration.recvWindowMilliseconds,
                                                     timestamp: serverNowMilliseconds, signer: signer)
    }

    /// Feeds a WebSocket API reply's `rateLimits` and any 429/418 to the same limiter as REST:
    /// Binance counts both against the one IP.
    public func observeWebSocketAPIReply(_ bytes: [UInt8]) async {
        await limiter.observe(webSocketAPIReply: WebSocketAPIMessages.limits(fromReply: bytes), now: serverNowMilliseconds)
    }

    // MARK: Transport

    enum Security { case none, apiKey, signed }

    /// `record`, when given, keeps the timestamp and departure of the last send made, for
    /// a caller that must know when that send can no longer reach the matching engine.
    private func send(
        _ method: HTTPMethod, _ path: String, _ parameters: QueryParameters = QueryParameters(), weight: Int,
        isOrder: Bool = false, priority: RequestPriority = .normal, security: Security = .none, timestamp: Int64? = nil,
        record: SendRecord? = nil
    ) async throws(GordonError) -> [UInt8] {
        do {
            return try await sendOnce(method, path, parameters, weight: weight, isOrder: isOrder, priority: priority, security: security,
                                      timestamp: timestamp, record: record)
        } catch where error.code == .exchangeClockSkew && security == .signed {
            // Rejected before the matching engine: resync and send once more with a fresh timestamp.
            logger.warning("timestamp outside recvWindow; resynchronising with the server clock", metadata: ["endpoint": "\(path)"])
            try await resynchronizeClock()
            return try await sendOnce(method, path, parameters, weight: weight, isOrder: isOrder, priority: priority, security: security,
                                      timestamp: nil, record: record)
        }
    }

    private func sendOnce(
        _ method: HTTPMethod, _ path: String, _ parameters: QueryParameters, weight: Int,
        isOrder: Bool, priority: RequestPriority, security: Security, timestamp: Int64?, record: SendRecord?
    ) async throws(GordonError) -> [UInt8] {
        try await limiter.acquire(weight: weight, isOrder: isOrder, priority: priority, endpoint: path,
                                  now: { [self] in serverNowMilliseconds })
        var query = parameters
        var request = HTTPClientRequest(url: configuration.endpoint.restBaseURL + path)
        request.method = method
        if security != .none {
            guard let credentials = configuration.credentials else {
                throw GordonError(.exchangeConfigInvalid, "\(path) needs an API key, and this client has none", context: ["endpoint": path])
            }
            credentials.apiKey.withPlainText { request.headers.add(name: "X-MBX-APIKEY", value: $0) }
        }
        if security == .signed, let signer {
            let stamp = timestamp ?? serverNowMilliseconds
            query.append("recvWindow", "\(configuration.recvWindowMilliseconds)")
            query.append("timestamp", "\(stamp)")
            query = signer.signed(query)
            record?.sent(PlacementSend(serverTimestamp: stamp, sentAt: .now))
        }
        let encoded = query.encoded
        if !encoded.isEmpty { request.url += "?" + encoded }

        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await http.execute(request, timeout: TimeAmount(configuration.requestTimeout))
            body = try await response.body.collect(upTo: 16 << 20)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw GordonError(.exchangeTimeout, "no response from Binance within \(configuration.requestTimeout); the request's fate is unknown",
                              context: ["endpoint": path], underlying: error)
        } catch {
            throw GordonError(.exchangeUnavailable, "request to Binance failed: \(Self.describe(error)); the request's fate is unknown",
                              context: ["endpoint": path], underlying: HTTPFailure(description: Self.describe(error)))
        }
        let now = serverNowMilliseconds
        var limitHeaders: [(String, String)] = []
        for header in response.headers where header.name.lowercased().hasPrefix("x-mbx-") {
            limitHeaders.append((header.name.lowercased(), header.value))
        }
        await limiter.observe(headers: limitHeaders, now: now)
        latestLimitHeaders.withLock { $0 = limitHeaders }
        let bytes = Array(body.readableBytesView)
        let status = Int(response.status.code)
        if (200..<300).contains(status) { return bytes }

        let retryAfter = response.headers.first(name: "Retry-After").flatMap { Int($0) }
        if status == 429 { await limiter.observeTooManyRequests(retryAfterSeconds: retryAfter, now: now) }
        if status == 418 { await limiter.observeBan(retryAfterSeconds: retryAfter, now: now) }
        let error = BinanceErrorMapping.error(httpStatus: status, body: bytes, endpoint: path, retryAfterSeconds: retryAfter)
        logger.debug("Binance refused a request", metadata: ["endpoint": "\(path)", "status": "\(status)", "error": "\(error.code.rawValue)"])
        throw error
    }

    private func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], endpoint: String) throws(GordonError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw GordonError(.exchangeMalformedResponse, "response of \(endpoint) is not the JSON Binance documents: \(error)",
                              context: ["endpoint": endpoint])
        }
    }

    private func sleep(_ duration: Duration) async throws(GordonError) {
        do { try await Task.sleep(for: duration) } catch {
            throw GordonError(.exchangeUnavailable, "cancelled while waiting on Binance")
        }
    }

    private static func describe(_ error: any Error) -> String {
        String(describing: error).prefix(200).description
    }
}

/// A transport error, reduced to its description so the `GordonError` stays `Sendable`.
struct HTTPFailure: Error, Sendable, CustomStringConvertible {
    let description: String
}

extension Duration {
    var wholeMilliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .milliseconds(duration.wholeMilliseconds)
    }
}

/// Whether an order's client order id may have been sent before.
public enum PlacementHistory: Sendable, Equatable {
    /// Never sent: sent at once.
    case firstSubmission
    /// Sent before, by this process or an earlier one: the order may exist, open or already
    /// closed. `lastSentServerTimestamp` is the `timestamp` the last send carried, in server
    /// time, when it was recorded before sending; nil when it was not.
    case resubmission(lastSentServerTimestamp: Int64?)
}

/// One send of a signed request: the `timestamp` it carried and when it left.
struct PlacementSend: Sendable {
    let serverTimestamp: Int64
    let sentAt: ContinuousClock.Instant
}

/// The last `PlacementSend` of one placement attempt (a -1021 makes a second send).
final class SendRecord: Sendable {
    private let latest = Mutex<PlacementSend?>(nil)
    func sent(_ send: PlacementSend) { latest.withLock { $0 = send } }
    var last: PlacementSend? { latest.withLock { $0 } }
}
