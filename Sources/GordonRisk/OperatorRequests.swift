import GordonBus
import GordonPostgres
public import GordonDomain
public import GordonKernel
public import GordonProtocol
public import Logging
public import PostgresNIO

/// What an operator asked of risk through gordon-manager (`trading.operator_requests`):
/// halt, resume, flatten, pause or resume one bot. Risk alone changes the halt latch and
/// writes the audit trail, so it carries each request out itself, with who asked and why.
public struct OperatorRequest: Sendable, Equatable {
    public enum Action: String, Sendable, CaseIterable {
        case halt, resume, flatten
        case pauseBot = "pause_bot"
        case resumeBot = "resume_bot"
    }

    public let id: Int64
    public let action: Action
    /// `all`, or the bot a `pause_bot`/`resume_bot` names.
    public let target: String
    public let reason: String
    /// The operator's login name (peer credentials of the manager's socket, or the console's user).
    public let requestedBy: String

    public init(id: Int64, action: Action, target: String, reason: String, requestedBy: String) {
        self.id = id
        self.action = action
        self.target = target
        self.reason = reason
        self.requestedBy = requestedBy
    }
}

public enum OperatorRequests {
    /// The oldest requests not yet carried out.
    public static func pending(on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> [OperatorRequest] {
        do {
            var requests: [OperatorRequest] = []
            for try await (id, action, target, reason, by) in try await connection.query("""
                SELECT id, action, target, reason, requested_by FROM trading.operator_requests WHERE handled_at IS NULL ORDER BY id LIMIT 20
                """, logger: logger).decode((Int64, String, String, String, String).self) {
                guard let action = OperatorRequest.Action(rawValue: action) else { continue }  // the table's CHECK makes this unreachable
                requests.append(OperatorRequest(id: id, action: action, target: target, reason: reason, requestedBy: by))
            }
            return requests
        } catch { throw PostgresFailure.map(error, context: ["operation": "read operator requests"]) }
    }

    /// Carries `request` out in one transaction: the latch or the bot's desired state, the
    /// audit row naming the operator, the commands through the outbox (the executor halts and
    /// flattens on its own), and the request marked handled with what came of it. A request
    /// risk cannot carry out (an unknown bot, a name no event may carry) is marked refused
    /// with the reason. Returns the outcome, or nil if the request was already handled.
    public static func carryOut(_ request: OperatorRequest, at time: Timestamp, ids: EventIdGenerator,
                                on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> String? {
        do {
            return try await connection.withTransaction(logger: logger) { connection in
                var claimed = false
                for try await _ in try await connection.query("""
                    SELECT id FROM trading.operator_requests WHERE id = \(request.id) AND handled_at IS NULL FOR UPDATE
                    """, logger: logger) { claimed = true }
                guard claimed else { return .commit(nil) }
                let outcome: String
                do {
                    outcome = try await perform(request, at: time, ids: ids, on: connection, logger: logger)
                } catch let refusal as Refusal {
                    outcome = "refused: \(refusal.reason)"
                }
                try await connection.query("""
                    UPDATE trading.operator_requests SET handled_at = now(), outcome = \(outcome) WHERE id = \(request.id)
                    """, logger: logger)
                return .commit(outcome)
            }
        } catch { throw PostgresFailure.map(error, context: ["operation": "carry out an operator request", "request": "\(request.id)"]) }
    }

    /// A request that cannot be carried out; nothing of it has been written.
    struct Refusal: Error {
        let reason: String
    }

    private static func perform(_ request: OperatorRequest, at time: Timestamp, ids: EventIdGenerator,
                                on connection: PostgresConnection, logger: Logger) async throws -> String {
        let issuer = RiskIssuer.operatorNamed(request.requestedBy)
        let actor = "operator:\(request.requestedBy)"
        let traceId = TraceId.random()
        let details = "{\"request\":\(request.id)}"
        func command(_ command: RiskCommand, _ target: RiskTarget) throws -> EventEnvelope<RiskCommandEvent> {
            do {
                let payload = try RiskCommandEvent(command: command, target: target, reason: String(request.reason.prefix(RiskCommandEvent.maxReasonBytes)),
                                                   issuedBy: issuer, issuedAt: time)
                return EventEnvelope(payload: payload, source: .risk, traceId: traceId, occurredAt: time, ids: ids)
            } catch { throw Refusal(reason: error.message) }
        }
        func audit(_ action: String, target: String) async throws {
            try await connection.query("""
                INSERT INTO trading.risk_audit_log (actor, action, target, reason, details)
                VALUES (\(actor), \(action), \(target), \(request.reason), \(details)::jsonb)
                """, logger: logger)
        }
        func publish(_ envelope: EventEnvelope<RiskCommandEvent>) async throws {
            _ = try await Outbox.enqueue(envelope, orderingKey: "risk", on: connection, logger: logger)
        }
        func setLatch(halted: Bool) async throws -> Bool {
            var was = true
            for try await (halted,) in try await connection.query("SELECT halted FROM trading.halt_latch FOR UPDATE", logger: logger)
                .decode((Bool,).self) { was = halted }
            try await connection.query("""
                UPDATE trading.halt_latch SET halted = \(halted), reason = \(request.reason), changed_by = \(actor), changed_at = now()
                """, logger: logger)
            return was
        }

        switch request.action {
        case .halt, .flatten:
            let halt = try command(.halt, .all)
            let flatten = request.action == .flatten ? try command(.flatten, .all) : nil
            let was = try await setLatch(halted: true)
            try await audit("halt", target: "all")
            try await publish(halt)
            guard let flatten else { return was ? "halted (it already was)" : "halted" }
            // A flatten also halts: with the latch open the bots would buy straight back in.
            try await audit("flatten", target: "all")
            try await publish(flatten)
            return "halted; every position is being closed"
        case .resume:
            let resume = try command(.resume, .all)
            let was = try await setLatch(halted: false)
            try await audit("resume", target: "all")
            try await publish(resume)
            return was ? "resumed: the bots may trade" : "resumed (it was not halted)"
        case .pauseBot, .resumeBot:
            let bot: BotId
            let target: RiskTarget
            do {
                bot = try BotId(request.target)
                target = try .bot(bot)
            } catch { throw Refusal(reason: error.message) }
            let pausing = request.action == .pauseBot
            let event = try command(pausing ? .pauseBot : .resumeBot, target)
            var state: String?
            for try await (current,) in try await connection.query(
                "SELECT desired_state FROM trading.v_bot_configs WHERE bot_id = \(bot.rawValue)", logger: logger).decode((String,).self) {
                state = current
            }
            guard let state else { throw Refusal(reason: "there is no bot \(bot.rawValue)") }
            let (from, to) = pausing ? ("running", "paused") : ("paused", "running")
            guard state == from else {
                throw Refusal(reason: "bot \(bot.rawValue) is \(state), not \(from)")
            }
            // The role may read no column of bot_configs but bot_id: the state is read through the view.
            try await connection.query("""
                UPDATE trading.bot_configs SET desired_state = \(to)
                WHERE bot_id = (SELECT bot_id FROM trading.v_bot_configs WHERE bot_id = \(bot.rawValue) AND desired_state = \(from))
                """, logger: logger)
            try await audit(pausing ? "pause_bot" : "resume_bot", target: bot.rawValue)
            try await publish(event)
            return "bot \(bot.rawValue) \(to)"
        }
    }
}
