public import GordonDomain
public import GordonKernel

/// Whom a risk command addresses: every bot, or one.
///
/// A struct around `Scope` rather than a bare enum because the wire token `all` is also a
/// well-formed bot id: a bare `.bot(BotId("all"))` would be written as `all` and read back
/// as "every bot", turning "flatten one bot" into "flatten everything". `bot(_:)` refuses
/// that id, so every `RiskTarget` survives the round trip unchanged.
public struct RiskTarget: Sendable, Hashable, CustomStringConvertible {
    public enum Scope: Sendable, Hashable {
        case all
        case bot(BotId)
    }

    /// The token that means every bot.
    public static let allToken = "all"
    public static let all = RiskTarget(scope: .all)

    public let scope: Scope

    private init(scope: Scope) { self.scope = scope }

    /// One bot; the id `all` is reserved and refused with `invalidSubject`.
    public static func bot(_ id: BotId) throws(GordonError) -> RiskTarget {
        guard id.rawValue != allToken else {
            throw GordonError(.invalidSubject, "bot id 'all' is reserved for the every-bot risk target", context: ["token": id.rawValue])
        }
        return RiskTarget(scope: .bot(id))
    }

    /// `all`, or a bot id; anything else is `invalidSubject` naming the token.
    public init(parsing token: some StringProtocol) throws(GordonError) {
        if token == RiskTarget.allToken {
            self = .all
            return
        }
        do {
            self.init(scope: .bot(try BotId(token)))
        } catch {
            throw GordonError(.invalidSubject, "risk target must be 'all' or a bot id", context: ["token": Text.quoted(token)], underlying: error)
        }
    }

    public var botId: BotId? {
        switch scope {
        case .all: nil
        case .bot(let id): id
        }
    }

    public var isAll: Bool { scope == .all }

    /// The subject token and wire value.
    public var token: String { botId?.rawValue ?? RiskTarget.allToken }
    public var description: String { token }
}

extension RiskTarget: Codable {
    public init(from decoder: any Decoder) throws {
        self = try decoder.validatedString { text throws(GordonError) in try RiskTarget(parsing: text) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(token)
    }
}
