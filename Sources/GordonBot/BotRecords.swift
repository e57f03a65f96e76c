public import GordonDomain
public import GordonKernel
import GordonPostgres
public import GordonStrategy
public import Logging
public import PostgresNIO
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A bot's configuration as it reads it (`trading.v_own_bot_config`): the plan it trades,
/// on which series, with how much of the account.
public struct BotSettings: Sendable {
    public let botId: BotId
    public let symbol: Symbol
    public let interval: Interval
    public let plan: TradingPlan
    /// The quote amount the bot trades with (`max_quote_exposure`); its equity is this plus
    /// what it has realised.
    public let allocation: ExactDecimal
    public let desiredState: DesiredState

    public init(botId: BotId, symbol: Symbol, interval: Interval, plan: TradingPlan, allocation: ExactDecimal,
                desiredState: DesiredState) {
        self.botId = botId
        self.symbol = symbol
        self.interval = interval
        self.plan = plan
        self.allocation = allocation
        self.desiredState = desiredState
    }
}

/// What the executor's records say the bot holds in its symbol, read in the transaction
/// that acts on a kline, so a restarted bot knows exactly what its predecessor did.
public struct BotHoldings: Sendable, Equatable {
    public var quantity: ExactDecimal = .zero
    public var averageEntryPrice: ExactDecimal = .zero
    public var realizedProfit: ExactDecimal = .zero
    /// The bot's newest intent while the executor has not finished with it (no order yet,
    /// or the order is still working): the bot sends nothing else until it is.
    public var pendingIntent: String?

    public init(quantity: ExactDecimal = .zero, averageEntryPrice: ExactDecimal = .zero, realizedProfit: ExactDecimal = .zero,
                pendingIntent: String? = nil) {
        self.quantity = quantity
        self.averageEntryPrice = averageEntryPrice
        self.realizedProfit = realizedProfit
        self.pendingIntent = pendingIntent
    }

    /// Open when what is held is worth at least `minimumNotional` at `price`: the dust a
    /// sell leaves below the lot size is not a position.
    public func isOpen(at price: ExactDecimal, minimumNotional: ExactDecimal) -> Bool {
        quantity.isPositive && quantity * price >= minimumNotional
    }
}

/// The bot's reads of its own rows, through the per-bot views of migration 0011.
public enum BotRecords {
    static let workingStatuses: Set<String> = ["PENDING_NEW", "NEW", "PARTIALLY_FILLED", "PENDING_CANCEL"]

    /// The bot's configuration, or a clear error when it has none or it cannot be traded.
    public static func settings(botId: BotId, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> BotSettings {
        var found: (String, String, [String], String, String, String?, String, String)?
        do {
            let rows = try await connection.query("""
                SELECT strategy, parameters::text, symbols, interval, desired_state, max_quote_exposure::text, overlays::text, sizing::text
                FROM trading.v_own_bot_config WHERE bot_id = \(botId.rawValue)
                """, logger: logger)
            for try await row in rows.decode((String, String, [String], String, String, String?, String, String).self) { found = row }
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read bot configuration", "bot": botId.rawValue])
        }
        guard let (strategy, parameters, symbols, intervalText, state, allocationText, overlays, sizing) = found else {
            throw GordonError(.invalidBotConfig, "bot \(botId.rawValue) has no configuration this role may read: create it, and its role with gordon-migrate add-bot",
                              context: ["bot": botId.rawValue])
        }
        return try validate(botId: botId, strategy: strategy, parameters: parameters, symbols: symbols, interval: intervalText, desiredState: state,
                            allocation: allocationText, overlays: overlays, sizing: sizing)
    }

    /// A configuration row, checked as the bot checks it when it starts: gordon-manager
    /// refuses to create a bot whose process would refuse to run. JSON columns as text.
    public static func validate(botId: BotId, strategy: String, parameters: String, symbols: [String], interval intervalText: String,
                                desiredState state: String, allocation allocationText: String?, overlays: String,
                                sizing: String) throws(GordonError) -> BotSettings {
        func invalid(_ message: String) -> GordonError {
            GordonError(.invalidBotConfig, "bot \(botId.rawValue): \(message)", context: ["bot": botId.rawValue])
        }
        guard symbols.count == 1, let symbol = try? Symbol(symbols[0]) else {
            throw invalid("a bot trades exactly one symbol; its configuration lists \(symbols)")
        }
        guard let interval = Interval(rawValue: intervalText) else { throw invalid("'\(intervalText)' is not a kline interval") }
        guard let desired = DesiredState(rawValue: state) else { throw invalid("unknown desired state '\(state)'") }
        guard let allocationText, let allocation = try? ExactDecimal(parsing: allocationText), allocation.isPositive else {
            throw invalid("max_quote_exposure must be set: it is the quote amount the bot trades with")
        }
        let decoder = JSONDecoder()
        let plan: TradingPlan
        do {
            plan = TradingPlan(
                strategy: StrategyConfig(name: strategy, parameters: try decoder.decode([String: Double].self, from: Data(parameters.utf8))),
                overlays: try decoder.decode([StrategyConfig].self, from: Data(overlays.utf8)),
                sizing: try decoder.decode(StrategyConfig.self, from: Data(sizing.utf8)))
        } catch {
            throw invalid("parameters, overlays or sizing are not the backtester's JSON: \(error)")
        }
        do { _ = try LivePlan(plan: plan, symbol: symbol, interval: interval) } catch { throw invalid(error.message) }
        return BotSettings(botId: botId, symbol: symbol, interval: interval, plan: plan, allocation: allocation, desiredState: desired)
    }

    public static func desiredState(botId: BotId, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> DesiredState? {
        do {
            for try await (state,) in try await connection.query(
                "SELECT desired_state FROM trading.v_own_bot_config WHERE bot_id = \(botId.rawValue)", logger: logger).decode((String,).self) {
                return DesiredState(rawValue: state)
            }
            return nil
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read desired state", "bot": botId.rawValue])
        }
    }

    /// One statement, so one snapshot: read in two, a fill the executor commits between the
    /// position and the intent's status would show the intent done but not what it did, and
    /// the bot would buy (or sell) a second time.
    public static func holdings(symbol: Symbol, on connection: PostgresConnection, logger: Logger) async throws(GordonError) -> BotHoldings {
        var holdings = BotHoldings()
        do {
            for try await (quantity, entry, realized, intent, status) in try await connection.query("""
                SELECT p.quantity::text, p.average_entry_price::text, p.realized_pnl::text, i.intent_id, o.status
                FROM (SELECT 1) AS one
                LEFT JOIN trading.v_own_bot_positions p ON p.symbol = \(symbol.rawValue)
                LEFT JOIN LATERAL (SELECT intent_id FROM trading.v_own_bot_intents WHERE symbol = \(symbol.rawValue)
                                   ORDER BY created_at DESC, intent_id DESC LIMIT 1) i ON true
                LEFT JOIN trading.v_own_bot_orders o ON o.client_order_id = i.intent_id
                """, logger: logger).decode((String?, String?, String?, String?, String?).self) {
                if let quantity, let entry, let realized {
                    holdings.quantity = try ExactDecimal(parsing: quantity)
                    holdings.averageEntryPrice = try ExactDecimal(parsing: entry)
                    holdings.realizedProfit = try ExactDecimal(parsing: realized)
                }
                if let intent, status.map({ workingStatuses.contains($0) }) ?? true { holdings.pendingIntent = intent }
            }
        } catch let error as GordonError {
            throw error
        } catch {
            throw PostgresFailure.map(error, context: ["operation": "read bot holdings", "symbol": symbol.rawValue])
        }
        return holdings
    }
}
