/// A snapshot of the limiter for `/metrics` and logs.
public struct RateLimitStatus: Sendable, Equatable, CustomStringConvertible {
    public struct Usage: Sendable, Equatable {
        public let rule: RateLimitRule
        /// Counted in the current window: what we reserved or the server reported, whichever is more.
        public let used: Int
        /// What this client lets itself use: the rule's limit less the safety margin.
        public let capacity: Int
        /// The current window, `[start, end)`; nil for a rule with an unknown interval.
        public let windowStartMs: Int64?
        public let windowEndMs: Int64?
    }

    public let usages: [Usage]
    /// After a 429: nothing is sent before this instant.
    public let backoffUntilMs: Int64?
    /// After a 418: the IP is banned until this instant.
    public let bannedUntilMs: Int64?

    /// `REQUEST_WEIGHT 6000/1m used 120/5700, ORDERS 100/10s used 0/95 …`.
    public var description: String {
        var parts = usages.map { "\($0.rule) used \($0.used)/\($0.capacity)" }
        if let backoffUntilMs { parts.append("backing off until \(backoffUntilMs)") }
        if let bannedUntilMs { parts.append("banned until \(bannedUntilMs)") }
        return parts.joined(separator: ", ")
    }
}
