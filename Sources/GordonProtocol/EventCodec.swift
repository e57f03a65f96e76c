#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel

/// Turns envelopes into JSON bytes and back, with every failure a `GordonError`.
///
/// Encoding is deterministic (sorted keys, compact, no escaped `/`), so the same event is
/// always the same bytes: golden files can lock the format and dedup can compare bytes.
///
/// Decoding is strict about what an event means and lenient about what it may add: fields
/// this build does not know are ignored anywhere (additive-only evolution), while a newer
/// `schema_version`, a foreign `type`, a wrong JSON type, a missing field or an invalid value
/// is refused. Every refusal of bad input is `malformedEvent` with a `path` context entry
/// (`$.payload.open`) unless a more specific code applies; nothing from Foundation escapes.
public struct EventCodec: Sendable {
    /// The largest input `decode` reads and the largest output `encode` produces.
    public let maxEventBytes: Int

    public init(maxEventBytes: Int = EventSchema.maxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// The canonical JSON bytes of `envelope`. An event larger than `maxEventBytes` is
    /// `eventEncodingFailed`: every consumer would refuse it, so it must not be published.
    public func encode<Payload: EventPayload>(_ envelope: EventEnvelope<Payload>) throws(GordonError) -> [UInt8] {
        let encoder = JSONEncoder()
        // Sorted keys make the bytes a function of the value alone; the golden tests pin
        // the order (plain byte order of the keys) on every platform that runs them.
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(envelope))
        } catch EncodingError.invalidValue(_, let detail) {
            throw GordonError(.eventEncodingFailed, "cannot encode \(Payload.eventType) event: \(detail.debugDescription.prefix(200))",
                              context: ["type": Payload.eventType, "path": EventCodec.path(detail.codingPath)])
        } catch {
            throw GordonError(.eventEncodingFailed, "cannot encode \(Payload.eventType) event", context: ["type": Payload.eventType])
        }
        guard bytes.count <= maxEventBytes else {
            throw GordonError(.eventEncodingFailed, "encoded event exceeds \(maxEventBytes) bytes",
                              context: ["type": Payload.eventType, "bytes": "\(bytes.count)"])
        }
        return bytes
    }

    /// Decodes an event whose payload must be `Payload`.
    ///
    /// Throws `unsupportedSchemaVersion` for a newer envelope, `eventTypeMismatch` when the
    /// `type` names another payload, and `malformedEvent` for anything else wrong.
    public func decode<Payload: EventPayload>(_: Payload.Type, from bytes: some Collection<UInt8>) throws(GordonError) -> EventEnvelope<Payload> {
        let data = try bounded(bytes)
        let header = try readHeader(data)
        if let type = header.type, type != Payload.eventType {
            throw GordonError(.eventTypeMismatch, "expected a \(Payload.eventType) event",
                              context: ["expected": Payload.eventType, "type": Text.quoted(type, limit: 64)])
        }
        return try decodeEnvelope(Payload.self, from: data)
    }

    /// Decodes any known event, dispatching on `type`; an unknown type is `unknownEventType`
    /// (a consumer built before that type existed may skip such events deliberately).
    public func decodeAny(from bytes: some Collection<UInt8>) throws(GordonError) -> AnyEvent {
        let data = try bounded(bytes)
        let header = try readHeader(data)
        guard let type = header.type else {
            throw GordonError(.malformedEvent, "event type is missing or not a string", context: ["path": "$.type"])
        }
        switch type {
        case KlineEvent.eventType: return .kline(try decodeEnvelope(KlineEvent.self, from: data))
        case MetricEvent.eventType: return .metric(try decodeEnvelope(MetricEvent.self, from: data))
        case OrderIntentEvent.eventType: return .orderIntent(try decodeEnvelope(OrderIntentEvent.self, from: data))
        case OrderUpdateEvent.eventType: return .orderUpdate(try decodeEnvelope(OrderUpdateEvent.self, from: data))
        case FillEvent.eventType: return .fill(try decodeEnvelope(FillEvent.self, from: data))
        case RiskCommandEvent.eventType: return .riskCommand(try decodeEnvelope(RiskCommandEvent.self, from: data))
        case BreakerEvent.eventType: return .breaker(try decodeEnvelope(BreakerEvent.self, from: data))
        case BotLifecycleEvent.eventType: return .botLifecycle(try decodeEnvelope(BotLifecycleEvent.self, from: data))
        case ReconciliationEvent.eventType: return .reconciliation(try decodeEnvelope(ReconciliationEvent.self, from: data))
        default:
            throw GordonError(.unknownEventType, "unknown event type", context: ["type": Text.quoted(type, limit: 64)])
        }
    }

    // MARK: - Steps

    private func bounded(_ bytes: some Collection<UInt8>) throws(GordonError) -> Data {
        let count = bytes.count
        guard count <= maxEventBytes else {
            throw GordonError(.malformedEvent, "event exceeds \(maxEventBytes) bytes",
                              context: ["path": "$", "bytes": "\(count)", "limit": "\(maxEventBytes)"])
        }
        return Data(bytes)
    }

    /// The version and type, read before anything else: a newer envelope may have changed
    /// every other field, so its version is the only thing this build can say about it.
    private func readHeader(_ data: Data) throws(GordonError) -> Header {
        let header = try decodeJSON(Header.self, from: data)
        guard header.schemaVersion <= EventSchema.currentVersion else {
            throw GordonError(.unsupportedSchemaVersion, "event schema version \(header.schemaVersion) is newer than this build reads",
                              context: ["schemaVersion": "\(header.schemaVersion)", "supported": "\(EventSchema.currentVersion)"])
        }
        guard header.schemaVersion >= 1 else {
            throw GordonError(.malformedEvent, "schema_version must be at least 1",
                              context: ["path": "$.schema_version", "schemaVersion": "\(header.schemaVersion)"])
        }
        return header
    }

    private func decodeEnvelope<Payload: EventPayload>(_: Payload.Type, from data: Data) throws(GordonError) -> EventEnvelope<Payload> {
        try decodeJSON(EventEnvelope<Payload>.self, from: data)
    }

    private func decodeJSON<T: Decodable>(_: T.Type, from data: Data) throws(GordonError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw EventCodec.malformed(error)
        } catch {
            throw GordonError(.malformedEvent, "event is not valid JSON", context: ["path": "$"])
        }
    }

    private struct Header: Decodable {
        let schemaVersion: Int
        /// Nil when absent or not a string; the full decode then reports it with its path.
        let type: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: EventEnvelope<KlineEvent>.CodingKeys.self)
            schemaVersion = try container.decodeInteger(Int.self, forKey: .schemaVersion)
            type = try? container.decode(String.self, forKey: .type)
        }
    }

    // MARK: - Errors

    /// `malformedEvent` naming the JSON path of the offending field; a validation failure
    /// inside a value (a bad symbol, a negative price) keeps its own code as `cause`, its
    /// context, and the `GordonError` as `underlying`.
    static func malformed(_ error: DecodingError) -> GordonError {
        let path: String
        let message: String
        var context: [String: String] = [:]
        var underlying: GordonError?
        switch error {
        case .typeMismatch(let type, let detail):
            path = EventCodec.path(detail.codingPath)
            message = "wrong JSON type, expected \(type)"
        case .valueNotFound(let type, let detail):
            path = EventCodec.path(detail.codingPath)
            message = "missing value, expected \(type)"
        case .keyNotFound(let key, let detail):
            path = EventCodec.path(detail.codingPath + [key])
            message = "missing field"
        case .dataCorrupted(let detail):
            path = EventCodec.path(detail.codingPath)
            if let cause = detail.underlyingError as? GordonError {
                message = cause.message
                context = cause.context
                context["cause"] = cause.code.rawValue
                underlying = cause
            } else {
                message = String(detail.debugDescription.prefix(200))
            }
        @unknown default:
            path = "$"
            message = "undecodable event"
        }
        context["path"] = path
        return GordonError(.malformedEvent, "malformed event at \(path): \(message)", context: context, underlying: underlying)
    }

    /// A coding path as JSONPath: `$`, `$.payload.open`, `$.items[2]`.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var text = "$"
        for key in codingPath {
            if let index = key.intValue, key.stringValue == "Index \(index)" || key.stringValue == "\(index)" {
                text += "[\(index)]"
            } else {
                text += "." + Text.quoted(key.stringValue, limit: 64)
            }
        }
        return text
    }
}
