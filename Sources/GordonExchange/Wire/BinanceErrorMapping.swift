#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
public import GordonKernel

/// Maps a non-2xx REST response to one `GordonError`, so callers branch on Gordon's codes
/// rather than on Binance's numbers and messages.
///
/// The HTTP status decides first (429, 418 and 5xx mean the same whatever the body says),
/// then Binance's code, then, for the codes that share one number, the documented message.
/// Context always carries `binanceCode` (`none` without a Binance body), `httpStatus` and
/// `endpoint` — the path only: the query string of a signed request holds its signature.
public enum BinanceErrorMapping {
    public static func error(httpStatus: Int, body: [UInt8], endpoint: String, retryAfterSeconds: Int?) -> GordonError {
        let path = BinanceJSON.endpointPath(endpoint)
        let binance = try? JSONDecoder().decode(BinanceErrorBody.self, from: Data(body))
        let msg = binance.map { redacted($0.msg) } ?? ""
        var context = ["httpStatus": "\(httpStatus)", "endpoint": path, "binanceCode": binance.map { "\($0.code)" } ?? "none"]
        if let retryAfterSeconds { context["retryAfter"] = "\(retryAfterSeconds)" }
        let detail = binance.map { ": \(msg) (\($0.code))" } ?? ""
        func make(_ code: ErrorCode, _ message: String, _ extra: [String: String] = [:]) -> GordonError {
            GordonError(code, message, context: context.merging(extra) { _, new in new })
        }

        switch httpStatus {
        case 429:
            return make(.exchangeRateLimited, "Binance rate limit exceeded on \(path)\(detail); back off\(retryAfterText(retryAfterSeconds))")
        case 418:
            return make(.exchangeBanned, "Binance banned this IP after repeated 429s\(detail)\(retryAfterText(retryAfterSeconds))")
        case 500...599:
            return make(.exchangeUnavailable,
                        "Binance failed with HTTP \(httpStatus) on \(path)\(detail); the request's fate is unknown (it may have executed), query before retrying")
        default:
            break
        }
        guard let binance else {
            if httpStatus == 404 {
                return make(.invalidExchangeRequest, "Binance has no endpoint \(path) (HTTP 404): check the base URL and the API version")
            }
            if httpStatus == 403 {
                return make(.exchangeRejected, "Binance's web application firewall refused \(path) (HTTP 403)")
            }
            return make(.exchangeMalformedResponse, "Binance answered \(path) with HTTP \(httpStatus) and a body that is not a Binance error")
        }

        switch binance.code {
        case -1021:
            return make(.exchangeClockSkew, "Binance refused \(path): request timestamp outside recvWindow\(detail); resync the clock")
        case -1002, -1022, -2014, -2015:
            return make(.exchangeAuthFailed, "Binance refused the API key or signature on \(path)\(detail)")
        case -1003, -1015:
            return make(.exchangeRateLimited, "Binance rate limit exceeded on \(path)\(detail)")
        case -1007:
            return make(.exchangeTimeout, "Binance timed out on \(path)\(detail); the request's fate is unknown, query before retrying")
        case -1000, -1001, -1006, -1008, -1016:
            return make(.exchangeUnavailable, "Binance could not process \(path)\(detail); the request's fate is unknown, query before retrying")
        case _ where binance.code == -1013 || msg.hasPrefix(filterFailurePrefix):
            let filter = filterName(in: msg) ?? "UNKNOWN"
            return make(.filterFailure, "Filter failure: \(filter): Binance refused the order on \(path)\(detail)", ["filter": filter])
        case -2010 where msg.hasPrefix("Account has insufficient balance"):
            return make(.insufficientBalance, "Binance: account has insufficient balance\(detail)")
        case -2010 where msg.hasPrefix("Duplicate order sent"):
            return make(.duplicateOrder, "Binance: an open order already has this client order id\(detail)")
        case -2011 where msg.contains("cancel restrictions"):
            return make(.exchangeRejected, "Binance refused the cancel on \(path)\(detail)")
        case -2011, -2013:
            return make(.unknownOrder, "Binance does not know the order\(detail)")
        case -1199 ... -1100:
            return make(.invalidExchangeRequest, "Binance refused a parameter on \(path)\(detail)")
        default:
            return make(.exchangeRejected, "Binance rejected \(path)\(detail)")
        }
    }

    private static let filterFailurePrefix = "Filter failure:"

    /// `"Filter failure: LOT_SIZE"` → `LOT_SIZE`.
    private static func filterName(in msg: String) -> String? {
        guard msg.hasPrefix(filterFailurePrefix) else { return nil }
        let name = msg.dropFirst(filterFailurePrefix.count).drop(while: { $0 == " " }).prefix(while: { $0 != " " && $0 != "." })
        return name.isEmpty ? nil : String(name.prefix(64))
    }

    private static func retryAfterText(_ seconds: Int?) -> String {
        seconds.map { "; retry after \($0) s" } ?? ""
    }

    /// Binance's message, shortened, and with any `signature=…` cut out in case a message
    /// ever echoes a request.
    private static func redacted(_ msg: String) -> String {
        var rest = Substring(msg.prefix(300))
        var text = ""
        while let hit = rest.firstRange(of: "signature=") {
            text += rest[..<hit.lowerBound] + "<signature redacted>"
            rest = rest[hit.upperBound...].drop(while: { $0 != "&" && $0 != " " && $0 != "\"" })
        }
        return text + rest
    }
}
