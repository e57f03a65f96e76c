public import GordonDomain
import GordonKernel

/// Binance's decimal text: every price, quantity and balance travels as a string with a
/// fixed number of places (`"0.00100000"`), never as a JSON number.
public enum BinanceDecimal {
    /// `value` with at least `places` fractional digits, padded with zeros, as Binance prints
    /// it (`0.001` at 8 places is `"0.00100000"`, zero is `"0.00000000"`).
    ///
    /// Never rounds: a value with more places than asked prints all of them, because a
    /// simulator that silently changed an amount would lie about the exchange's state.
    public static func format(_ value: ExactDecimal, places: Int) -> String {
        let text = value.description
        let missing = places - value.scale
        guard missing > 0 else { return text }
        return text + (value.scale == 0 ? "." : "") + String(repeating: "0", count: missing)
    }

    /// Parses a decimal field of a response; bad text is the exchange's fault, so the error
    /// is `exchangeMalformedResponse` naming the field.
    static func parse(_ text: String, field: String) throws(GordonError) -> ExactDecimal {
        try WireMapping.field(field) { () throws(GordonError) in try ExactDecimal(parsing: text) }
    }
}

/// Turns a domain error raised while mapping a response into `exchangeMalformedResponse`:
/// a 2xx body that does not make a valid Gordon value is the exchange's (or the
/// simulator's) fault, and the caller needs one code to recognise it by.
enum WireMapping {
    static func field<T>(_ name: String, _ make: () throws(GordonError) -> T) throws(GordonError) -> T {
        do {
            return try make()
        } catch {
            throw malformed("field \(name) is not valid: \(error.message)", context: error.context.merging(["field": name]) { _, new in new },
                            underlying: error)
        }
    }

    static func value<T>(_ what: String, _ make: () throws(GordonError) -> T) throws(GordonError) -> T {
        do {
            return try make()
        } catch where error.code == .exchangeMalformedResponse {
            throw error
        } catch {
            throw malformed("\(what) does not map to a valid value: \(error.message)", context: error.context, underlying: error)
        }
    }

    static func malformed(_ message: String, context: [String: String] = [:], underlying: (any Error & Sendable)? = nil) -> GordonError {
        GordonError(.exchangeMalformedResponse, "Binance response: \(message)", context: context, underlying: underlying)
    }

    static func required<T>(_ value: T?, _ field: String) throws(GordonError) -> T {
        guard let value else { throw malformed("field \(field) is missing", context: ["field": field]) }
        return value
    }
}
