/// A request the simulated exchange refuses, as Binance states it: an error `code` and a
/// `msg`, sent with HTTP 400 as `{"code":…,"msg":…}` (errors.md).
///
/// Codes and messages are Binance's own, so a client tested against the simulator handles
/// exactly what the real exchange sends. The factories below are the complete catalogue the
/// engine uses; where Binance has no message for a simulator limit, the nearest real one is
/// chosen and the reason is given beside it.
public struct SimRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public let code: Int
    public let message: String

    public init(code: Int, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code) \(message)" }
}

extension SimRejection {
    // MARK: Request errors (-11xx): the API layer refuses before the matching engine

    /// -1013 with the filter's name, as Binance's "Filter failure: LOT_SIZE" (errors.md, Filter failures).
    static func filterFailure(_ filter: String) -> SimRejection {
        SimRejection(code: -1013, message: "Filter failure: \(filter)")
    }

    /// -1013 for a limit price that is zero or negative (Binance: "Invalid price.").
    static let invalidPrice = SimRejection(code: -1013, message: "Invalid price.")

    /// -1100: a client order id outside Binance's `^[\.A-Z\:/a-z0-9_-]{1,36}$`.
    static func illegalCharacters(_ parameter: String) -> SimRejection {
        SimRejection(code: -1100, message: "Illegal characters found in parameter '\(parameter)'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.")
    }

    /// -1102 MANDATORY_PARAM_EMPTY_OR_MALFORMED for one missing parameter.
    static func mandatory(_ parameter: String) -> SimRejection {
        SimRejection(code: -1102, message: "Mandatory parameter '\(parameter)' was not sent, was empty/null, or malformed.")
    }

    /// -1102 for a pair of which one must be sent (a MARKET's size, a query's order reference).
    static func eitherMandatory(_ first: String, _ second: String) -> SimRejection {
        SimRejection(code: -1102, message: "Param '\(first)' or '\(second)' must be sent, but both were empty/null!")
    }

    /// -1106 PARAM_NOT_REQUIRED.
    static func notRequired(_ parameter: String) -> SimRejection {
        SimRejection(code: -1106, message: "Parameter '\(parameter)' sent when not required.")
    }

    /// -1108 PARAM_OVERFLOW: Binance stores amounts as 64-bit integers of 10^-8, so nothing
    /// above 92233720368.54775807 can be sent.
    static func overflow(_ parameter: String) -> SimRejection {
        SimRejection(code: -1108, message: "Parameter '\(parameter)' overflowed.")
    }

    /// -1111 BAD_PRECISION: more decimals than the asset's precision.
    static func tooMuchPrecision(_ parameter: String) -> SimRejection {
        SimRejection(code: -1111, message: "Parameter '\(parameter)' has too much precision.")
    }

    /// -1121 BAD_SYMBOL.
    static let invalidSymbol = SimRejection(code: -1121, message: "Invalid symbol.")

    // MARK: Matching-engine errors (-2010 NEW_ORDER_REJECTED, -2011 CANCEL_REJECTED, -2013)

    /// The symbol has no price yet, so there is no book to trade against: Binance's message
    /// for a symbol that is not trading.
    static let marketClosed = SimRejection(code: -2010, message: "Market is closed.")
    static let insufficientBalance = SimRejection(code: -2010, message: "Account has insufficient balance for requested action.")
    static let duplicateOrder = SimRejection(code: -2010, message: "Duplicate order sent.")
    static let wouldMatchAndTake = SimRejection(code: -2010, message: "Order would immediately match and take.")
    static let wouldTriggerImmediately = SimRejection(code: -2010, message: "Order would trigger immediately.")
    static let selfTradePreventionModeNotAllowed = SimRejection(
        code: -1013, message: "This order type is not allowed with the selected self-trade prevention mode.")

    /// STOP_LOSS and TAKE_PROFIT (the market variants) are not simulated; STOP_LOSS_LIMIT and
    /// TAKE_PROFIT_LIMIT are. Binance answers a symbol that does not allow an order type with
    /// these exact -2010 messages, so a client sees a genuine "this symbol does not support
    /// it" rather than an invented error.
    static func unsupportedType(_ type: String) -> SimRejection {
        let name: String
        switch type {
        case "STOP_LOSS": name = "Stop loss orders"
        case "STOP_LOSS_LIMIT": name = "Stop loss limit orders"
        case "TAKE_PROFIT": name = "Take profit orders"
        case "TAKE_PROFIT_LIMIT": name = "Take profit limit orders"
        default: return SimRejection(code: -1116, message: "Invalid orderType.")
        }
        return SimRejection(code: -2010, message: "\(name) are not supported for this symbol.")
    }

    static let unknownOrderToCancel = SimRejection(code: -2011, message: "Unknown order sent.")

    // MARK: Order lists (OCO): errors.md's -11xx OCO codes and the matching engine's message

    static let ocoOrderTypeRejected = SimRejection(code: -1158, message: "Order type not supported in OCO.")
    static let buyOCOLimitMustBeBelow = SimRejection(code: -1165, message: "A limit order in a buy OCO must be below.")
    static let sellOCOLimitMustBeAbove = SimRejection(code: -1166, message: "A limit order in a sell OCO must be above.")
    static let bothOCOOrdersLimit = SimRejection(code: -1168, message: "At least one OCO order must be contingent.")
    static let buyOCOStopLossMustBeAbove = SimRejection(code: -1196, message: "A stop loss order in a buy OCO must be above.")
    static let sellOCOStopLossMustBeBelow = SimRejection(code: -1197, message: "A stop loss order in a sell OCO must be below.")
    static let buyOCOTakeProfitMustBeBelow = SimRejection(code: -1198, message: "A take profit order in a buy OCO must be below.")
    static let sellOCOTakeProfitMustBeAbove = SimRejection(code: -1199, message: "A take profit order in a sell OCO must be above.")
    static let ocoPriceRelationship = SimRejection(code: -2010, message: "The relationship of the prices for the orders is not correct.")
    /// errors.md gives no message for an order list that cannot be found; the order's
    /// -2011/-2013 codes with "Order list" in place of "Order" are the nearest.
    static let orderListToCancelDoesNotExist = SimRejection(code: -2011, message: "Order list does not exist.")
    static let orderListDoesNotExist = SimRejection(code: -2013, message: "Order list does not exist.")
    static let orderDoesNotExist = SimRejection(code: -2013, message: "Order does not exist.")
}
