/// What every process on one IP must know about Binance's per-IP limits: a ban, a 429
/// back-off, and the counts of the current windows. gordon-data and gordon-executor share the
/// host's IP, so a 429 or 418 seen by one binds the other; they exchange this value through
/// `SharedRateLimitFile`. A plain value with a line-based text form, so that its parsing
/// and merging are tested without files.
public struct SharedRateLimits: Sendable, Equatable {
    public struct Count: Sendable, Equatable {
        public var rateLimitType: String
        public var windowMs: Int64
        public var windowStartMs: Int64
        public var used: Int

        public init(rateLimitType: String, windowMs: Int64, windowStartMs: Int64, used: Int) {
            self.rateLimitType = rateLimitType
            self.windowMs = windowMs
            self.windowStartMs = windowStartMs
            self.used = used
        }
    }

    /// Server time (ms) until which nothing may be sent.
    public var bannedUntilMs: Int64?
    /// Server time (ms) until which nothing should be sent (after a 429).
    public var backoffUntilMs: Int64?
    public var counts: [Count]

    public init(bannedUntilMs: Int64? = nil, backoffUntilMs: Int64? = nil, counts: [Count] = []) {
        self.bannedUntilMs = bannedUntilMs
        self.backoffUntilMs = backoffUntilMs
        self.counts = counts
    }

    /// The union of two processes' knowledge at `now`: the later ban and back-off, and per
    /// window the newer window's count (the larger count when both are the same window).
    /// Expired facts are dropped, so the file never grows.
    public func merged(with other: SharedRateLimits, now: Int64) -> SharedRateLimits {
        func later(_ a: Int64?, _ b: Int64?) -> Int64? {
            let value = [a, b].compactMap { $0 }.max()
            return value.flatMap { $0 > now ? $0 : nil }
        }
        var byWindow: [String: Count] = [:]
        for count in counts + other.counts {
            let (end, overflow) = count.windowStartMs.addingReportingOverflow(count.windowMs)
            guard count.windowMs > 0, count.used >= 0, overflow || end > now else { continue }
            let key = "\(count.rateLimitType) \(count.windowMs)"
            if let existing = byWindow[key] {
                if count.windowStartMs > existing.windowStartMs {
                    byWindow[key] = count
                } else if count.windowStartMs == existing.windowStartMs {
                    byWindow[key]?.used = max(existing.used, count.used)
                }
            } else {
                byWindow[key] = count
            }
        }
        let counts = byWindow.values.sorted { ($0.rateLimitType, $0.windowMs) < ($1.rateLimitType, $1.windowMs) }
        return SharedRateLimits(bannedUntilMs: later(bannedUntilMs, other.bannedUntilMs),
                                backoffUntilMs: later(backoffUntilMs, other.backoffUntilMs), counts: counts)
    }

    static let header = "gordon-binance-ip-limits 1"

    /// The file's text: a header line, then one fact per line.
    public var text: String {
        var lines = [Self.header]
        if let bannedUntilMs { lines.append("banned_until \(bannedUntilMs)") }
        if let backoffUntilMs { lines.append("backoff_until \(backoffUntilMs)") }
        for count in counts {
            lines.append("count \(count.rateLimitType) \(count.windowMs) \(count.windowStartMs) \(count.used)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads the text form. Another process (or an older version) wrote it, so nothing in it
    /// is trusted: a line that does not parse is skipped, and a file without the header is
    /// read as empty.
    public init(parsing text: some StringProtocol) {
        self.init()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard lines.first.map({ $0 == Self.header }) == true else { return }
        for line in lines.dropFirst() {
            let fields = line.split(separator: " ")
            switch (fields.first, fields.count) {
            case ("banned_until", 2): bannedUntilMs = Int64(fields[1]) ?? bannedUntilMs
            case ("backoff_until", 2): backoffUntilMs = Int64(fields[1]) ?? backoffUntilMs
            case ("count", 5):
                guard let window = Int64(fields[2]), let start = Int64(fields[3]), let used = Int(fields[4]),
                      fields[1].allSatisfy({ $0.isLetter || $0 == "_" }) else { continue }
                counts.append(Count(rateLimitType: String(fields[1]), windowMs: window, windowStartMs: start, used: used))
            default:
                continue
            }
        }
    }
}
