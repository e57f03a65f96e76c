import GordonDomain
import GordonExchange
import GordonKernel
import Testing

@Suite("Binance error mapping")
struct BinanceErrorMappingTests {
    private func body(_ code: Int, _ msg: String) -> [UInt8] {
        Array(#"{"code":\#(code),"msg":"\#(msg)"}"#.utf8)
    }

    private func map(_ status: Int, _ code: Int, _ msg: String, endpoint: String = "/api/v3/order", retryAfter: Int? = nil) -> GordonError {
        BinanceErrorMapping.error(httpStatus: status, body: body(code, msg), endpoint: endpoint, retryAfterSeconds: retryAfter)
    }

    @Test(arguments: [
        (400, -1021, "Timestamp for this request is outside of the recvWindow.", ErrorCode.exchangeClockSkew),
        (400, -1022, "Signature for this request is not valid.", .exchangeAuthFailed),
        (401, -2014, "API-key format invalid.", .exchangeAuthFailed),
        (401, -2015, "Invalid API-key, IP, or permissions for action.", .exchangeAuthFailed),
        (400, -1003, "Too much request weight used; current limit is 6000 request weight per 1 MINUTE.", .exchangeRateLimited),
        (400, -2010, "Account has insufficient balance for requested action.", .insufficientBalance),
        (400, -2010, "Duplicate order sent.", .duplicateOrder),
        (400, -2010, "Market is closed.", .exchangeRejected),
        (400, -2011, "Unknown order sent.", .unknownOrder),
        (400, -2013, "Order does not exist.", .unknownOrder),
        (400, -2011, "Order was not canceled due to cancel restrictions.", .exchangeRejected),
        (400, -1100, "Illegal characters found in parameter 'symbol'; legal range is '^[A-Z0-9-_.]{1,20}$'.", .invalidExchangeRequest),
        (400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.", .invalidExchangeRequest),
        (400, -1121, "Invalid symbol.", .invalidExchangeRequest),
        (400, -1007, "Timeout waiting for response from backend server. Send status unknown; execution status unknown.", .exchangeTimeout),
        (400, -1001, "Internal error; unable to process your request. Please try again.", .exchangeUnavailable),
        (400, -2026, "Order was canceled or expired with no executed qty over 90 days ago and has been archived.", .exchangeRejected),
        (409, -2021, "Order cancel-replace partially failed.", .exchangeRejected),
    ])
    func binanceCodes(status: Int, code: Int, msg: String, expected: ErrorCode) {
        let error = map(status, code, msg)
        #expect(error.code == expected)
        #expect(error.context["binanceCode"] == "\(code)")
        #expect(error.context["httpStatus"] == "\(status)")
        #expect(error.context["endpoint"] == "/api/v3/order")
        #expect(error.message.contains(msg))
    }

    @Test(arguments: [
        (-1013, "Filter failure: LOT_SIZE", "LOT_SIZE"),
        (-1013, "Filter failure: PERCENT_PRICE_BY_SIDE", "PERCENT_PRICE_BY_SIDE"),
        (-2010, "Filter failure: MAX_NUM_ORDERS", "MAX_NUM_ORDERS"),
        (-1013, "Invalid quantity.", "UNKNOWN"),
    ])
    func filterFailuresNameTheFilter(code: Int, msg: String, filter: String) {
        let error = map(400, code, msg)
        #expect(error.code == .filterFailure)
        #expect(error.context["filter"] == filter)
        #expect(error.message.hasPrefix("Filter failure: \(filter)"))
    }

    @Test func httpStatusDecidesBeforeTheBody() {
        let limited = map(429, -1003, "Too much request weight used.", retryAfter: 7)
        #expect(limited.code == .exchangeRateLimited && limited.isRetryable)
        #expect(limited.context["retryAfter"] == "7")
        #expect(limited.context["binanceCode"] == "-1003")

        let banned = map(418, -1003, "Way too much request weight used; IP banned until 1700000000000.", retryAfter: 120)
        #expect(banned.code == .exchangeBanned)
        #expect(banned.context["retryAfter"] == "120")

        for status in [500, 502, 503, 504] {
            let unavailable = BinanceErrorMapping.error(httpStatus: status, body: [], endpoint: "/api/v3/order", retryAfterSeconds: nil)
            #expect(unavailable.code == .exchangeUnavailable)
            #expect(unavailable.message.contains("unknown"))
            #expect(unavailable.context["binanceCode"] == "none")
            #expect(unavailable.context["httpStatus"] == "\(status)")
            #expect(unavailable.context["retryAfter"] == nil)
        }
        // A 5xx with a Binance body still means the fate is unknown.
        #expect(map(503, -2010, "Duplicate order sent.").code == .exchangeUnavailable)
    }

    @Test func signedQueryStringNeverReachesTheError() {
        let endpoints = [
            "/api/v3/order?symbol=BTCUSDT&side=BUY&timestamp=1700000000000&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
            "https://api.binance.com/api/v3/order?symbol=BTCUSDT&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
        ]
        for endpoint in endpoints {
            for (status, code, msg) in [(400, -1022, "Signature for this request is not valid."), (503, -1000, "x"), (429, -1003, "y"),
                                        (400, -1100, "Illegal characters found in parameter 'signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71&x=1'.")] {
                let error = map(status, code, msg, endpoint: endpoint)
                let everything = error.description + error.context.values.joined(separator: " ") + error.context.keys.joined(separator: " ")
                #expect(!everything.contains("signature="), "\(error)")
                #expect(!everything.contains("c8db56825ae71d6d"), "\(error)")
                #expect(!everything.contains("symbol=BTCUSDT"), "\(error)")
                #expect(error.context["endpoint"] == "/api/v3/order")
            }
        }
    }

    @Test func bodiesThatAreNotBinanceErrors() {
        for body in ["", "<html><body>Bad gateway</body></html>", #"{"code":"x","msg":1}"#, #"{"msg":"no code"}"#, "[1,2]", "{"] {
            let error = BinanceErrorMapping.error(httpStatus: 400, body: Array(body.utf8), endpoint: "/api/v3/account?signature=abc",
                                                  retryAfterSeconds: nil)
            #expect(error.code == .exchangeMalformedResponse, "\(body)")
            #expect(error.context["binanceCode"] == "none")
            #expect(error.context["endpoint"] == "/api/v3/account")
            #expect(!error.description.contains("abc"))
        }
        let waf = BinanceErrorMapping.error(httpStatus: 403, body: Array("<html>blocked</html>".utf8), endpoint: "/api/v3/order",
                                            retryAfterSeconds: nil)
        #expect(waf.code == .exchangeRejected && waf.context["httpStatus"] == "403")
    }
}
