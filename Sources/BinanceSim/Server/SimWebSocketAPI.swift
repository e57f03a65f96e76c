import GordonExchange
import GordonKernel
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One `/ws-api/v3` connection's state: its user data subscription, if it has one.
struct SimWebSocketAPISession {
    /// The connection's id in the broadcaster.
    let connection: Int
    var subscriptionId: Int?
    var nextSubscriptionId = 0
}

/// A JSON value as the WebSocket API reads it: an id is echoed back as sent, and a param is
/// signed in its textual form.
enum SimJSONValue: Codable, Equatable {
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// The value as it appears in a signature payload.
    var text: String {
        switch self {
        case .string(let value): value
        case .integer(let value): String(value)
        case .number(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: ""
        }
    }
}

private struct SimWebSocketAPIRequest: Decodable {
    let id: SimJSONValue?
    let method: String
    let params: [String: SimJSONValue]?
}

private struct SimWebSocketAPIReply<Result: Encodable>: Encodable {
    let id: SimJSONValue
    let status: Int
    let result: Result?
    let error: SimWebSocketAPIError?
    let rateLimits: [SimRateLimitCount]
}

/// An error as the WebSocket API sends it: a 429 or 418 also says, in `data`, the server
/// time and the epoch millisecond at which the client may send again.
private struct SimWebSocketAPIError: Encodable {
    struct RetryData: Encodable {
        let serverTime: Int64
        let retryAfter: Int64
    }
    let code: Int
    let msg: String
    let data: RetryData?
}

private struct SimRateLimitCount: Encodable {
    let rateLimitType: String
    let interval: String
    let intervalNum: Int
    let limit: Int
    let count: Int
}

private struct SubscriptionResult: Encodable { let subscriptionId: Int }
private struct EmptyResult: Encodable {}

extension BinanceSimulator {
    /// Answers one WebSocket API request frame (web-socket-api.md). Supported methods:
    /// `userDataStream.subscribe.signature`, `userDataStream.unsubscribe` and `ping`; a
    /// subscription makes the connection receive the account's events as
    /// `{"subscriptionId":N,"event":{…}}`. Requests count against the IP's request weight
    /// like REST calls, and pass the same fault, key, timestamp and signature gates.
    func webSocketAPIReply(to frame: String, session: inout SimWebSocketAPISession) -> String {
        let now = serverTime
        guard let request = try? JSONDecoder().decode(SimWebSocketAPIRequest.self, from: Data(frame.utf8)) else {
            return reply(.null, status: 400, code: -1135, "Invalid JSON Request")
        }
        let id = request.id ?? .null
        let params = request.params ?? [:]

        switch state.withLock({ $0.faults.verdict(now: now) }) {
        case .proceed: break
        case .tooManyRequests(let seconds):
            return reply(id, status: 429, code: -1003, "Too many requests; current limit is exceeded.", retryAfter: now + Int64(seconds) * 1000)
        case .banned(let until):
            return reply(id, status: 418, code: -1003, "Way too much request weight used; IP banned until \(until).", retryAfter: until)
        case .serverError: return reply(id, status: 503, code: -1008, "Server is currently overloaded with other requests. Please try again in a few minutes.")
        }
        switch state.withLock({ $0.limits.admit(weight: 2, isOrder: false, now: now) }) {
        case .proceed: break
        case .banned(let until):
            return reply(id, status: 418, code: -1003, "Way too much request weight used; IP banned until \(until).", retryAfter: until)
        case .tooMany(let code, let message, let seconds): return reply(id, status: 429, code: code, message, retryAfter: now + Int64(seconds) * 1000)
        }

        switch request.method {
        case "ping":
            return reply(id, result: EmptyResult())
        case "userDataStream.unsubscribe":
            guard session.subscriptionId != nil else { return reply(id, status: 400, code: -2036, "User Data Stream subscription not active.") }
            session.subscriptionId = nil
            broadcaster.setUserDataSubscription(session.connection, to: nil)
            return reply(id, result: EmptyResult())
        case WebSocketAPIMessages.subscribeMethod:
            if let refusal = checkSignedWebSocketAPI(params, id: id, now: now) { return refusal }
            guard session.subscriptionId == nil else { return reply(id, status: 400, code: -2035, "User Data Stream subscription already active.") }
            let subscriptionId = session.nextSubscriptionId
            session.nextSubscriptionId += 1
            session.subscriptionId = subscriptionId
            broadcaster.setUserDataSubscription(session.connection, to: subscriptionId)
            return reply(id, result: SubscriptionResult(subscriptionId: subscriptionId))
        default:
            return reply(id, status: 400, code: -1020, "This operation is not supported.")
        }
    }

    /// The REST gates in the WebSocket API's form: the API key is a param, and the payload
    /// is every other param sorted by name.
    private func checkSignedWebSocketAPI(_ params: [String: SimJSONValue], id: SimJSONValue, now: Int64) -> String? {
        guard case .string(let apiKey)? = params["apiKey"], !apiKey.isEmpty else {
            return reply(id, status: 400, code: -1102, "Mandatory parameter 'apiKey' was not sent, was empty/null, or malformed.")
        }
        guard let key = configuration.apiKeys.first(where: { $0.apiKey == apiKey }) else {
            return reply(id, status: 401, code: -2015, "Invalid API-key, IP, or permissions for action.")
        }
        guard case .integer(let timestamp)? = params["timestamp"] else {
            return reply(id, status: 400, code: -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        }
        let recvWindow: Double = switch params["recvWindow"] {
        case .integer(let value)?: Double(value)
        case .number(let value)?: value
        default: 5000
        }
        guard recvWindow <= 60_000 else { return reply(id, status: 400, code: -1131, "recvWindow must be less than 60000") }
        if timestamp >= now + 1000 {
            return reply(id, status: 400, code: -1021, "Timestamp for this request was 1000ms ahead of the server's time.")
        }
        if Double(now - timestamp) > recvWindow {
            return reply(id, status: 400, code: -1021, "Timestamp for this request is outside of the recvWindow.")
        }
        guard case .string(let signature)? = params["signature"] else {
            return reply(id, status: 400, code: -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.")
        }
        let payload = WebSocketAPIMessages.signaturePayload(params.map { (name: $0.key, value: $0.value.text) })
        guard key.verifies(payload: payload, signature: signature) else {
            return reply(id, status: 400, code: -1022, "Signature for this request is not valid.")
        }
        return nil
    }

    private func reply(_ id: SimJSONValue, result: some Encodable) -> String {
        String(decoding: json(SimWebSocketAPIReply(id: id, status: 200, result: result, error: nil, rateLimits: rateLimitCounts())), as: UTF8.self)
    }

    private func reply(_ id: SimJSONValue, status: Int, code: Int, _ message: String, retryAfter: Int64? = nil) -> String {
        let data = retryAfter.map { SimWebSocketAPIError.RetryData(serverTime: serverTime, retryAfter: $0) }
        let error = SimWebSocketAPIError(code: code, msg: message, data: data)
        return String(decoding: json(SimWebSocketAPIReply<EmptyResult>(id: id, status: status, result: nil, error: error, rateLimits: rateLimitCounts())),
                      as: UTF8.self)
    }

    /// Every reply carries the IP's and the account's current counts, as Binance's do by default.
    private func rateLimitCounts() -> [SimRateLimitCount] {
        let now = serverTime
        return state.withLock { $0.limits.counts(now: now) }.map { rule, count in
            SimRateLimitCount(rateLimitType: rule.rateLimitType, interval: rule.interval, intervalNum: rule.intervalNum, limit: rule.limit,
                              count: count)
        }
    }
}
