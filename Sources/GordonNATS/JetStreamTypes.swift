/// JetStream's JSON API types (`$JS.API.*`), with the server's field names. Durations are
/// nanoseconds, as on the wire. Unknown fields are ignored so a newer server still parses.
public struct StreamConfig: Codable, Sendable, Hashable {
    public var name: String
    public var subjects: [String]
    public var retention: String = "limits"
    public var storage: String = "file"
    public var maxConsumers: Int = -1
    public var maxMessages: Int64 = -1
    public var maxBytes: Int64 = -1
    public var maxAge: Int64 = 0
    public var maxMessageSize: Int32 = -1
    public var discard: String = "old"
    public var replicas: Int = 1
    /// Window (ns) within which a repeated `Nats-Msg-Id` is acknowledged but not stored again.
    public var duplicateWindow: Int64 = 120_000_000_000
    public var denyDelete: Bool = false
    public var denyPurge: Bool = false

    enum CodingKeys: String, CodingKey {
        case name, subjects, retention, storage, discard
        case maxConsumers = "max_consumers", maxMessages = "max_msgs", maxBytes = "max_bytes", maxAge = "max_age"
        case maxMessageSize = "max_msg_size", replicas = "num_replicas", duplicateWindow = "duplicate_window"
        case denyDelete = "deny_delete", denyPurge = "deny_purge"
    }

    public init(name: String, subjects: [String]) {
        self.name = name
        self.subjects = subjects
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        subjects = try c.decodeIfPresent([String].self, forKey: .subjects) ?? []
        retention = try c.decodeIfPresent(String.self, forKey: .retention) ?? "limits"
        storage = try c.decodeIfPresent(String.self, forKey: .storage) ?? "file"
        maxConsumers = try c.decodeIfPresent(Int.self, forKey: .maxConsumers) ?? -1
        maxMessages = try c.decodeIfPresent(Int64.self, forKey: .maxMessages) ?? -1
        maxBytes = try c.decodeIfPresent(Int64.self, forKey: .maxBytes) ?? -1
        maxAge = try c.decodeIfPresent(Int64.self, forKey: .maxAge) ?? 0
        maxMessageSize = try c.decodeIfPresent(Int32.self, forKey: .maxMessageSize) ?? -1
        discard = try c.decodeIfPresent(String.self, forKey: .discard) ?? "old"
        replicas = try c.decodeIfPresent(Int.self, forKey: .replicas) ?? 1
        duplicateWindow = try c.decodeIfPresent(Int64.self, forKey: .duplicateWindow) ?? 0
        denyDelete = try c.decodeIfPresent(Bool.self, forKey: .denyDelete) ?? false
        denyPurge = try c.decodeIfPresent(Bool.self, forKey: .denyPurge) ?? false
    }
}

public struct StreamState: Codable, Sendable, Hashable {
    public var messages: UInt64
    public var bytes: UInt64
    public var firstSequence: UInt64
    public var lastSequence: UInt64
    public var consumerCount: Int

    enum CodingKeys: String, CodingKey {
        case messages, bytes, firstSequence = "first_seq", lastSequence = "last_seq", consumerCount = "consumer_count"
    }
}

public struct StreamInfo: Codable, Sendable {
    public var config: StreamConfig
    public var state: StreamState
}

public struct ConsumerConfig: Codable, Sendable, Hashable {
    public enum DeliverPolicy: String, Codable, Sendable { case all, last, new, byStartSequence = "by_start_sequence", lastPerSubject = "last_per_subject" }
    public enum AckPolicy: String, Codable, Sendable { case explicit, none, all }

    public var durableName: String?
    public var name: String?
    public var description: String?
    public var deliverPolicy: DeliverPolicy = .all
    public var optStartSequence: UInt64?
    public var ackPolicy: AckPolicy = .explicit
    /// How long (ns) the server waits for an ack before redelivering.
    public var ackWait: Int64 = 30_000_000_000
    /// Deliveries after which the server gives up on a message (-1: never).
    public var maxDeliver: Int = -1
    public var filterSubject: String?
    public var replayPolicy: String = "instant"
    public var maxAckPending: Int = 1000
    public var maxWaiting: Int = 512
    /// Ephemeral consumers are removed after this idle time (ns).
    public var inactiveThreshold: Int64?
    public var memoryStorage: Bool?

    enum CodingKeys: String, CodingKey {
        case durableName = "durable_name", name, description, deliverPolicy = "deliver_policy"
        case optStartSequence = "opt_start_seq", ackPolicy = "ack_policy", ackWait = "ack_wait", maxDeliver = "max_deliver"
        case filterSubject = "filter_subject", replayPolicy = "replay_policy", maxAckPending = "max_ack_pending"
        case maxWaiting = "max_waiting", inactiveThreshold = "inactive_threshold", memoryStorage = "mem_storage"
    }

    public init(durableName: String?, filterSubject: String? = nil) {
        self.durableName = durableName
        self.filterSubject = filterSubject
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        durableName = try c.decodeIfPresent(String.self, forKey: .durableName)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        deliverPolicy = try c.decodeIfPresent(DeliverPolicy.self, forKey: .deliverPolicy) ?? .all
        optStartSequence = try c.decodeIfPresent(UInt64.self, forKey: .optStartSequence)
        ackPolicy = try c.decodeIfPresent(AckPolicy.self, forKey: .ackPolicy) ?? .explicit
        ackWait = try c.decodeIfPresent(Int64.self, forKey: .ackWait) ?? 30_000_000_000
        maxDeliver = try c.decodeIfPresent(Int.self, forKey: .maxDeliver) ?? -1
        filterSubject = try c.decodeIfPresent(String.self, forKey: .filterSubject)
        replayPolicy = try c.decodeIfPresent(String.self, forKey: .replayPolicy) ?? "instant"
        maxAckPending = try c.decodeIfPresent(Int.self, forKey: .maxAckPending) ?? 1000
        maxWaiting = try c.decodeIfPresent(Int.self, forKey: .maxWaiting) ?? 512
        inactiveThreshold = try c.decodeIfPresent(Int64.self, forKey: .inactiveThreshold)
        memoryStorage = try c.decodeIfPresent(Bool.self, forKey: .memoryStorage)
    }
}

public struct SequenceInfo: Codable, Sendable, Hashable {
    public var consumerSequence: UInt64
    public var streamSequence: UInt64
    enum CodingKeys: String, CodingKey { case consumerSequence = "consumer_seq", streamSequence = "stream_seq" }
}

public struct ConsumerInfo: Codable, Sendable {
    public var streamName: String
    public var name: String
    public var config: ConsumerConfig
    public var delivered: SequenceInfo
    public var ackFloor: SequenceInfo
    public var numAckPending: Int
    public var numRedelivered: Int
    public var numWaiting: Int
    public var numPending: UInt64

    enum CodingKeys: String, CodingKey {
        case streamName = "stream_name", name, config, delivered, ackFloor = "ack_floor", numAckPending = "num_ack_pending"
        case numRedelivered = "num_redelivered", numWaiting = "num_waiting", numPending = "num_pending"
    }
}

/// The server's acknowledgement of a JetStream publish.
public struct PubAck: Codable, Sendable, Hashable {
    public var stream: String
    public var sequence: UInt64
    /// True when the `Nats-Msg-Id` was already stored inside the duplicate window: the
    /// message was not stored again.
    public var duplicate: Bool

    enum CodingKeys: String, CodingKey { case stream, sequence = "seq", duplicate }

    public init(stream: String, sequence: UInt64, duplicate: Bool) {
        self.stream = stream
        self.sequence = sequence
        self.duplicate = duplicate
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        stream = try c.decode(String.self, forKey: .stream)
        sequence = try c.decode(UInt64.self, forKey: .sequence)
        duplicate = try c.decodeIfPresent(Bool.self, forKey: .duplicate) ?? false
    }
}

extension PubAck {
    /// The common reply, `{"stream":"GORDON","seq":42}` with an optional
    /// `"duplicate":true` and `"domain"`, read without a JSON decoder: it is on the hot path
    /// of every acknowledged publish. Anything else (an error, an unexpected key, escapes)
    /// returns nil and goes to the full decoder.
    init?(fastParsing bytes: some Collection<UInt8>) {
        let text = Array(bytes)
        guard text.count < 512, text.first == UInt8(ascii: "{"), text.last == UInt8(ascii: "}"),
              !text.contains(UInt8(ascii: "\\")) else { return nil }
        var stream: String?
        var sequence: UInt64?
        var duplicate = false
        var index = 1
        func skipSpaces() { while index < text.count, text[index] == 32 || text[index] == 10 || text[index] == 13 || text[index] == 9 { index += 1 } }
        func readString() -> String? {
            guard index < text.count, text[index] == UInt8(ascii: "\"") else { return nil }
            let start = index + 1
            guard let end = text[start...].firstIndex(of: UInt8(ascii: "\"")) else { return nil }
            index = end + 1
            return String(decoding: text[start..<end], as: UTF8.self)
        }
        while true {
            skipSpaces()
            guard let key = readString() else { return nil }
            skipSpaces()
            guard index < text.count, text[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            skipSpaces()
            switch key {
            case "stream", "domain":
                guard let value = readString() else { return nil }
                if key == "stream" { stream = value }
            case "seq":
                var value: UInt64 = 0
                var digits = 0
                while index < text.count, text[index] >= 48, text[index] <= 57, digits < 19 {
                    value = value * 10 + UInt64(text[index] - 48)
                    index += 1
                    digits += 1
                }
                guard digits > 0 else { return nil }
                sequence = value
            case "duplicate":
                if text[index...].starts(with: "true".utf8) { duplicate = true; index += 4 }
                else if text[index...].starts(with: "false".utf8) { index += 5 }
                else { return nil }
            default:
                return nil
            }
            skipSpaces()
            guard index < text.count else { return nil }
            if text[index] == UInt8(ascii: ",") { index += 1; continue }
            guard text[index] == UInt8(ascii: "}"), index == text.count - 1 else { return nil }
            break
        }
        guard let stream, let sequence else { return nil }
        self.init(stream: stream, sequence: sequence, duplicate: duplicate)
    }
}

/// `{"error":{"code":404,"err_code":10059,"description":"stream not found"}}`.
struct APIErrorBody: Decodable {
    struct Detail: Decodable {
        var code: Int
        var errCode: Int?
        var description: String?
        enum CodingKeys: String, CodingKey { case code, errCode = "err_code", description }
    }
    var error: Detail?
}
