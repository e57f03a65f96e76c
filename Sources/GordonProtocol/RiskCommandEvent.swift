public import GordonDomain
public import GordonKernel

/// What gordon-risk orders, on `gordon.risk.command.<target>`.
public enum RiskCommand: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Latch the halt: the executor accepts no new intent until `resume`.
    case halt
    /// Clear the halt latch (an operator's decision, never a breaker's).
    case resume
    /// Cancel open orders and sell positions back to the quote asset.
    case flatten
    /// Stop one bot from trading (`desired_state = paused`).
    case pauseBot = "pause_bot"
    case resumeBot = "resume_bot"

    public var description: String { rawValue }

    /// Whether the command names one bot by necessity (`pause_bot`, `resume_bot`); the others
    /// may address every bot or one.
    public var requiresBotTarget: Bool {
        switch self {
        case .pauseBot, .resumeBot: true
        case .halt, .resume, .flatten: false
        }
    }
}

/// Who issued a risk command. On the wire: the operator's name, or `breaker:<name>`.
public enum RiskIssuer: Sendable, Hashable, CustomStringConvertible {
    /// A person, by login name: `^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$` (no `:`, so it can
    /// never be mistaken for a breaker).
    case operatorNamed(String)
    /// A circuit breaker that tripped.
    case breaker(BreakerName)

    static let breakerPrefix = "breaker:"

    /// Parses the wire form; anything else is `invalidEventPayload`.
    public init(parsing text: some StringProtocol) throws(GordonError) {
        let text = String(text)
        if text.hasPrefix(RiskIssuer.breakerPrefix) {
            do {
                self = .breaker(try BreakerName(text.dropFirst(RiskIssuer.breakerPrefix.count)))
            } catch {
                throw invalidPayload(RiskCommandEvent.eventType, "issued_by names an invalid breaker", ["issuedBy": Text.quoted(text)])
            }
        } else {
            self = .operatorNamed(text)
            try validate()
        }
    }

    func validate() throws(GordonError) {
        guard case .operatorNamed(let name) = self else { return }
        let bytes = Array(name.utf8)
        func alphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        func allowed(_ byte: UInt8) -> Bool {
            alphanumeric(byte) || [UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "-")].contains(byte)
        }
        guard (1...64).contains(bytes.count), alphanumeric(bytes[0]), bytes.allSatisfy(allowed)
        else {
            throw invalidPayload(RiskCommandEvent.eventType, "operator name must match ^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$",
                                 ["issuedBy": Text.quoted(name)])
        }
    }

    /// The wire form.
    public var string: String {
        switch self {
        case .operatorNamed(let name): name
        case .breaker(let name): RiskIssuer.breakerPrefix + name.rawValue
        }
    }

    public var description: String { string }
}

/// A risk command from gordon-risk (on its own or on an operator's behalf).
public struct RiskCommandEvent: EventPayload, Hashable {
    public static let eventType = "risk_command"
    /// Longest `reason`, in UTF-8 bytes.
    public static let maxReasonBytes = 256

    public let command: RiskCommand
    public let target: RiskTarget
    public let reason: String
    public let issuedBy: RiskIssuer
    public let issuedAt: Timestamp

    /// Refuses (`invalidEventPayload`) `pause_bot`/`resume_bot` for every bot, an invalid
    /// operator name, and a reason that is empty, over 256 bytes or has control characters.
    public init(command: RiskCommand, target: RiskTarget, reason: String, issuedBy: RiskIssuer, issuedAt: Timestamp) throws(GordonError) {
        guard !command.requiresBotTarget || !target.isAll else {
            throw invalidPayload(Self.eventType, "\(command.rawValue) needs a bot target, not all", ["command": command.rawValue])
        }
        try issuedBy.validate()
        guard Text.isFreeText(reason, maxBytes: Self.maxReasonBytes) else {
            throw invalidPayload(Self.eventType, "reason must be 1-\(Self.maxReasonBytes) bytes without control characters",
                                 ["command": command.rawValue])
        }
        self.command = command
        self.target = target
        self.reason = reason
        self.issuedBy = issuedBy
        self.issuedAt = issuedAt
    }

    public var subject: Subject { .riskCommand(target) }

    enum CodingKeys: String, CodingKey {
        case command, target, reason
        case issuedBy = "issued_by"
        case issuedAt = "issued_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let command = try container.decode(RiskCommand.self, forKey: .command)
        let target = try container.decode(RiskTarget.self, forKey: .target)
        let reason = try container.decode(String.self, forKey: .reason)
        let issuedByText = try container.decode(String.self, forKey: .issuedBy)
        let issuedAt = try container.decodeTimestamp(forKey: .issuedAt)
        self = try decoder.validating { () throws(GordonError) in
            try RiskCommandEvent(command: command, target: target, reason: reason,
                                 issuedBy: try RiskIssuer(parsing: issuedByText), issuedAt: issuedAt)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(command, forKey: .command)
        try container.encode(target, forKey: .target)
        try container.encode(reason, forKey: .reason)
        try container.encode(issuedBy.string, forKey: .issuedBy)
        try container.encode(issuedAt, forKey: .issuedAt)
    }
}
