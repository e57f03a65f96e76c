/// Faults the simulator injects, switchable at run time (`POST /sim/faults` with a
/// `SimFaultsUpdate`, or `updateFaults` in process).
///
/// Counters ("the next N requests…") are consumed as requests arrive, so a test states
/// exactly which request fails.
public struct SimFaults: Sendable, Codable, Equatable {
    /// Added to every REST response (milliseconds).
    public var latencyMilliseconds: Int = 0
    /// The next N REST requests get HTTP 429 (-1003) with `Retry-After`.
    public var tooManyRequests: Int = 0
    public var retryAfterSeconds: Int = 2
    /// The next N REST requests get HTTP 418 (IP ban) for `banSeconds`; while banned, every
    /// request gets 418 again (as Binance does).
    public var bans: Int = 0
    public var banSeconds: Int = 2
    /// The next N REST requests get HTTP 503 without being processed.
    public var serverErrors: Int = 0
    /// The next N order placements are executed, but their response is held back this long
    /// (longer than the client's timeout: the ack is lost, the order exists).
    public var delayedAcks: Int = 0
    public var ackDelayMilliseconds: Int = 3000
    /// The next N order placements are never executed and never answered in time (the
    /// request is lost before the matching engine).
    public var lostOrders: Int = 0
    /// The next N order placements are executed, and the reply is HTTP 503: Binance's 5xx,
    /// whose execution status is unknown (rest-api.md, "HTTP Return Codes").
    public var executedThenServerErrors: Int = 0
    /// The next N order placements are executed, and the reply is -1007 TIMEOUT ("Send status
    /// unknown; execution status unknown.").
    public var executedThenTimeouts: Int = 0
    /// The next N order placements are answered at once with a 503 and executed only
    /// `lateExecutionMilliseconds` later — if that is still inside the request's recvWindow,
    /// as Binance's matching engine would. A query in between says -2013.
    public var lateExecutions: Int = 0
    public var lateExecutionMilliseconds: Int = 1500
    /// The next N order placements are executed and answered 200 with the body cut in half.
    public var truncatedOrderReplies: Int = 0
    /// Shifts the server's clock (serverTime, the recvWindow check and event times).
    public var clockSkewMilliseconds: Int64 = 0
    /// The next N market or user data stream connections are accepted but their WebSocket
    /// upgrade is answered only after `upgradeStallMilliseconds`, and then refused: a server
    /// that hangs mid-handshake.
    public var stalledStreamUpgrades: Int = 0
    public var upgradeStallMilliseconds: Int = 60_000
    /// The next N answers of the alternative data sources (`/fng/`) are 200 with a body that
    /// is not the provider's JSON.
    public var malformedSourceReplies: Int = 0

    public init() {}

    /// Applies a partial update: only the fields present change.
    public mutating func apply(_ update: SimFaultsUpdate) {
        latencyMilliseconds = update.latencyMilliseconds ?? latencyMilliseconds
        tooManyRequests = update.tooManyRequests ?? tooManyRequests
        retryAfterSeconds = update.retryAfterSeconds ?? retryAfterSeconds
        bans = update.bans ?? bans
        banSeconds = update.banSeconds ?? banSeconds
        serverErrors = update.serverErrors ?? serverErrors
        delayedAcks = update.delayedAcks ?? delayedAcks
        ackDelayMilliseconds = update.ackDelayMilliseconds ?? ackDelayMilliseconds
        lostOrders = update.lostOrders ?? lostOrders
        clockSkewMilliseconds = update.clockSkewMilliseconds ?? clockSkewMilliseconds
        executedThenServerErrors = update.executedThenServerErrors ?? executedThenServerErrors
        executedThenTimeouts = update.executedThenTimeouts ?? executedThenTimeouts
        lateExecutions = update.lateExecutions ?? lateExecutions
        lateExecutionMilliseconds = update.lateExecutionMilliseconds ?? lateExecutionMilliseconds
        truncatedOrderReplies = update.truncatedOrderReplies ?? truncatedOrderReplies
        stalledStreamUpgrades = update.stalledStreamUpgrades ?? stalledStreamUpgrades
        upgradeStallMilliseconds = update.upgradeStallMilliseconds ?? upgradeStallMilliseconds
        malformedSourceReplies = update.malformedSourceReplies ?? malformedSourceReplies
    }
}

/// The body of `POST /sim/faults`: any subset of `SimFaults`' fields.
public struct SimFaultsUpdate: Sendable, Codable, Equatable {
    public var latencyMilliseconds: Int?
    public var tooManyRequests: Int?
    public var retryAfterSeconds: Int?
    public var bans: Int?
    public var banSeconds: Int?
    public var serverErrors: Int?
    public var delayedAcks: Int?
    public var ackDelayMilliseconds: Int?
    public var lostOrders: Int?
    public var clockSkewMilliseconds: Int64?
    public var executedThenServerErrors: Int?
    public var executedThenTimeouts: Int?
    public var lateExecutions: Int?
    public var lateExecutionMilliseconds: Int?
    public var truncatedOrderReplies: Int?
    public var stalledStreamUpgrades: Int?
    public var upgradeStallMilliseconds: Int?
    public var malformedSourceReplies: Int?

    public init() {}
}

/// What the fault plan says about one incoming REST request.
enum SimFaultVerdict: Equatable {
    case proceed
    case tooManyRequests(retryAfterSeconds: Int)
    case banned(untilMs: Int64)
    case serverError
}

/// The fault plan's counters and the ban it may have started, as a plain value.
struct SimFaultState {
    var faults = SimFaults()
    var bannedUntilMs: Int64?

    /// Consumes one request's worth of the counters.
    mutating func verdict(now: Int64) -> SimFaultVerdict {
        if let until = bannedUntilMs {
            if now < until { return .banned(untilMs: until) }
            bannedUntilMs = nil
        }
        if Self.takeOne(&faults.bans) {
            let until = now + Int64(faults.banSeconds) * 1000
            bannedUntilMs = until
            return .banned(untilMs: until)
        }
        if Self.takeOne(&faults.tooManyRequests) { return .tooManyRequests(retryAfterSeconds: faults.retryAfterSeconds) }
        if Self.takeOne(&faults.serverErrors) { return .serverError }
        return .proceed
    }

    /// What happens to an order placement that passed every check.
    enum OrderFate: Equatable {
        case normal, delayedAck(milliseconds: Int), lost
        case executedThenServerError, executedThenTimeout, lateExecution(milliseconds: Int), truncatedReply
    }

    /// How long one incoming stream connection's upgrade stalls, if it does.
    mutating func streamUpgradeStall() -> Int? {
        Self.takeOne(&faults.stalledStreamUpgrades) ? faults.upgradeStallMilliseconds : nil
    }

    /// Consumes the malformed-reply fault for one alternative-data answer.
    mutating func malformedSourceReply() -> Bool { Self.takeOne(&faults.malformedSourceReplies) }

    mutating func orderFate() -> OrderFate {
        if Self.takeOne(&faults.lostOrders) { return .lost }
        if Self.takeOne(&faults.delayedAcks) { return .delayedAck(milliseconds: faults.ackDelayMilliseconds) }
        if Self.takeOne(&faults.executedThenServerErrors) { return .executedThenServerError }
        if Self.takeOne(&faults.executedThenTimeouts) { return .executedThenTimeout }
        if Self.takeOne(&faults.lateExecutions) { return .lateExecution(milliseconds: faults.lateExecutionMilliseconds) }
        if Self.takeOne(&faults.truncatedOrderReplies) { return .truncatedReply }
        return .normal
    }

    /// Uses up one of the next-N counter's occurrences, if any is left.
    private static func takeOne(_ counter: inout Int) -> Bool {
        guard counter > 0 else { return false }
        counter -= 1
        return true
    }
}
