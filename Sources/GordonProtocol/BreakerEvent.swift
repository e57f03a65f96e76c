public import GordonDomain
public import GordonKernel

/// A circuit breaker's state.
public enum BreakerState: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case tripped
    case reset

    public var description: String { rawValue }
}

/// A circuit breaker changed state, on `gordon.risk.breaker.<name>`.
public struct BreakerEvent: EventPayload, Hashable {
    public static let eventType = "breaker"
    /// Longest `reason`, in UTF-8 bytes.
    public static let maxReasonBytes = 256

    public let breaker: BreakerName
    public let state: BreakerState
    /// The measured value that caused the change (e.g. a drawdown of `0.12`).
    public let value: ExactDecimal
    /// The limit it was compared with.
    public let threshold: ExactDecimal
    public let reason: String
    public let at: Timestamp

    /// The reason is 1–256 bytes without control characters (`invalidEventPayload`).
    public init(breaker: BreakerName, state: BreakerState, value: ExactDecimal, threshold: ExactDecimal, reason: String, at: Timestamp) throws(GordonError) {
        guard Text.isFreeText(reason, maxBytes: Self.maxReasonBytes) else {
            throw invalidPayload(Self.eventType, "reason must be 1-\(Self.maxReasonBytes) bytes without control characters",
                                 ["breaker": breaker.rawValue])
        }
        self.breaker = breaker
        self.state = state
        self.value = value
        self.threshold = threshold
        self.reason = reason
        self.at = at
    }

    public var subject: Subject { .breaker(breaker) }

    enum CodingKeys: String, CodingKey {
        case breaker, state, value, threshold, reason, at
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let breaker = try container.decode(BreakerName.self, forKey: .breaker)
        let state = try container.decode(BreakerState.self, forKey: .state)
        let value = try container.decode(ExactDecimal.self, forKey: .value)
        let threshold = try container.decode(ExactDecimal.self, forKey: .threshold)
        let reason = try container.decode(String.self, forKey: .reason)
        let at = try container.decodeTimestamp(forKey: .at)
        self = try decoder.validating { () throws(GordonError) in
            try BreakerEvent(breaker: breaker, state: state, value: value, threshold: threshold, reason: reason, at: at)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breaker, forKey: .breaker)
        try container.encode(state, forKey: .state)
        try container.encode(value, forKey: .value)
        try container.encode(threshold, forKey: .threshold)
        try container.encode(reason, forKey: .reason)
        try container.encode(at, forKey: .at)
    }
}
