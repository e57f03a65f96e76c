public import GordonDomain
public import GordonKernel

/// Where a bot process is in its life.
public enum BotLifecycleState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case starting
    case running
    case paused
    case stopping
    case stopped
    case failed
    /// This instance took the bot's lease (`bot_leases`) and is now the active one.
    case leaseAcquired = "lease_acquired"
    /// This instance lost the lease and must stop trading at once.
    case leaseLost = "lease_lost"

    public var description: String { rawValue }
}

/// A bot instance changed state, on `gordon.bot.lifecycle.<bot>`.
public struct BotLifecycleEvent: EventPayload, Hashable {
    public static let eventType = "bot_lifecycle"
    /// Longest `reason`, in UTF-8 bytes.
    public static let maxReasonBytes = 256

    public let botId: BotId
    public let state: BotLifecycleState
    /// Which process of the bot: with one active instance per bot, two ids in a row tell a
    /// takeover from a restart. 1–128 printable ASCII characters without spaces.
    public let instanceId: String
    public let reason: String?
    public let at: Timestamp

    public init(botId: BotId, state: BotLifecycleState, instanceId: String, reason: String? = nil, at: Timestamp) throws(GordonError) {
        guard Text.isPrintableWord(instanceId, maxBytes: 128) else {
            throw invalidPayload(Self.eventType, "instance id must be 1-128 printable ASCII characters without spaces",
                                 ["botId": botId.rawValue, "instanceId": Text.quoted(instanceId)])
        }
        if let reason, !Text.isFreeText(reason, maxBytes: Self.maxReasonBytes) {
            throw invalidPayload(Self.eventType, "reason must be 1-\(Self.maxReasonBytes) bytes without control characters",
                                 ["botId": botId.rawValue])
        }
        self.botId = botId
        self.state = state
        self.instanceId = instanceId
        self.reason = reason
        self.at = at
    }

    public var subject: Subject { .botLifecycle(botId) }

    enum CodingKeys: String, CodingKey {
        case botId = "bot_id"
        case state
        case instanceId = "instance_id"
        case reason, at
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let botId = try container.decode(BotId.self, forKey: .botId)
        let state = try container.decode(BotLifecycleState.self, forKey: .state)
        let instanceId = try container.decode(String.self, forKey: .instanceId)
        let reason = try container.decodeIfPresent(String.self, forKey: .reason)
        let at = try container.decodeTimestamp(forKey: .at)
        self = try decoder.validating { () throws(GordonError) in
            try BotLifecycleEvent(botId: botId, state: state, instanceId: instanceId, reason: reason, at: at)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(botId, forKey: .botId)
        try container.encode(state, forKey: .state)
        try container.encode(instanceId, forKey: .instanceId)
        try container.encodeIfPresent(reason, forKey: .reason)
        try container.encode(at, forKey: .at)
    }
}
