/// Binance's error payload, `{"code": -1121, "msg": "Invalid symbol."}` (errors.md). Codes
/// are stable; messages vary, and only a few documented ones are matched on.
public struct BinanceErrorBody: Codable, Sendable, Hashable {
    public var code: Int
    public var msg: String

    public init(code: Int, msg: String) {
        self.code = code
        self.msg = msg
    }
}
