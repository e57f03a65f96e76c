#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel

/// The WebSocket API frames Gordon exchanges (web-socket-api.md, "Request format",
/// "Response format"): only `userDataStream.subscribe.signature`, which is how a user data
/// stream is opened since Binance retired the REST listen-key endpoints on live.
public enum WebSocketAPIMessages {
    public static let subscribeMethod = "userDataStream.subscribe.signature"

    /// The signed text: every param but `signature`, sorted by name, as `name=value` joined
    /// by `&` (web-socket-api.md, "SIGNED request example (HMAC)").
    public static func signaturePayload(_ params: [(name: String, value: String)]) -> String {
        params.filter { $0.name != "signature" }
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
            .map { "\($0.name)=\($0.value)" }
            .joined(separator: "&")
    }

    /// The subscription request frame. The API key travels inside it, so the frame is a
    /// `Secret`: it can be sent, never printed.
    public static func subscribeRequest(id: String, apiKey: Secret, recvWindow: Int64, timestamp: Int64, signer: RequestSigner) -> Secret {
        apiKey.withPlainText { key in
            let payload = signaturePayload([("apiKey", key), ("recvWindow", "\(recvWindow)"), ("timestamp", "\(timestamp)")])
            var params = StreamJSONWriter()
            params.field("apiKey", string: key)
            params.field("recvWindow", recvWindow)
            params.field("timestamp", timestamp)
            params.field("signature", string: signer.signature(for: payload))
            var request = StreamJSONWriter()
            request.field("id", string: id)
            request.field("method", string: subscribeMethod)
            request.field("params", json: params.finish())
            return Secret(request.finish())
        }
    }

    /// The rate-limit facts of any reply: its status, its `rateLimits` counts and, for a 429 or
    /// 418, `error.data.retryAfter` (web-socket-api.md, "IP limits"). A reply that is not
    /// JSON, or lacks these fields, gives what it has; nothing here throws.
    public static func limits(fromReply bytes: [UInt8]) -> WebSocketAPIReplyLimits {
        guard let reply = try? JSONDecoder().decode(LimitsReply.self, from: Data(bytes)) else {
            return WebSocketAPIReplyLimits(status: nil, counts: [], retryAtMs: nil)
        }
        let counts = (reply.rateLimits ?? []).compactMap { entry -> (rule: RateLimitRule, count: Int)? in
            guard let type = entry.rateLimitType, let interval = entry.interval, let number = entry.intervalNum,
                  let limit = entry.limit, let count = entry.count else { return nil }
            return (RateLimitRule(rateLimitType: type, interval: interval, intervalNum: number, limit: limit), count)
        }
        return WebSocketAPIReplyLimits(status: reply.status, counts: counts, retryAtMs: reply.error?.data?.retryAfter)
    }

    /// Every field optional and loosely typed: one odd entry must not hide the others.
    private struct LimitsReply: Decodable {
        struct Entry: Decodable {
            let rateLimitType: String?
            let interval: String?
            let intervalNum: Int?
            let limit: Int?
            let count: Int?
        }
        struct ErrorBody: Decodable {
            struct Data: Decodable { let retryAfter: Int64? }
            let data: Data?
        }
        let status: Int?
        let rateLimits: [Entry]?
        let error: ErrorBody?

        enum CodingKeys: String, CodingKey { case status, rateLimits, error }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            status = try? container.decodeIfPresent(Int.self, forKey: .status)
            rateLimits = (try? container.decodeIfPresent([FailableEntry].self, forKey: .rateLimits))?.compactMap(\.entry)
            error = try? container.decodeIfPresent(ErrorBody.self, forKey: .error)
        }

        struct FailableEntry: Decodable {
            let entry: Entry?
            init(from decoder: any Decoder) throws { entry = try? Entry(from: decoder) }
        }
    }

    /// The subscription id from the reply to request `id`; Binance's refusal as the same
    /// typed `GordonError` its REST twin would give.
    public static func subscriptionId(fromReply bytes: [UInt8], requestId: String) throws(GordonError) -> Int {
        let reply: Reply
        do {
            reply = try JSONDecoder().decode(Reply.self, from: Data(bytes))
        } catch {
            throw GordonError(.exchangeStreamMalformed, "the reply to \(subscribeMethod) is not the JSON Binance documents",
                              context: ["message": String(decoding: bytes.prefix(200), as: UTF8.self)])
        }
        guard reply.id == requestId else {
            throw GordonError(.exchangeStreamMalformed, "expected the reply to \(subscribeMethod) first, got another frame",
                              context: ["id": String((reply.id ?? "null").prefix(64))])
        }
        if reply.status == 200 {
            guard let id = reply.result?.subscriptionId else {
                throw GordonError(.exchangeStreamMalformed, "the reply to \(subscribeMethod) has no subscriptionId")
            }
            return id
        }
        let body = reply.error.flatMap { try? Array(JSONEncoder().encode($0)) } ?? []
        throw BinanceErrorMapping.error(httpStatus: reply.status, body: body, endpoint: subscribeMethod, retryAfterSeconds: nil)
    }

    private struct Reply: Decodable {
        struct Result: Decodable { let subscriptionId: Int? }
        let id: String?
        let status: Int
        let result: Result?
        let error: BinanceErrorBody?

        enum CodingKeys: String, CodingKey { case id, status, result, error }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Binance echoes the id as sent; an integer or null id is simply not ours.
            id = try? container.decodeIfPresent(String.self, forKey: .id)
            status = try container.decode(Int.self, forKey: .status)
            result = try? container.decodeIfPresent(Result.self, forKey: .result)
            error = try container.decodeIfPresent(BinanceErrorBody.self, forKey: .error)
        }
    }
}

/// What one WebSocket API reply says about the limits (see `WebSocketAPIMessages.limits`).
public struct WebSocketAPIReplyLimits: Sendable {
    public var status: Int?
    public var counts: [(rule: RateLimitRule, count: Int)]
    /// Epoch milliseconds (server time) at which sending may resume, on a 429 or 418.
    public var retryAtMs: Int64?
}
