import GordonKernel
import GordonDomain

/// Writes one flat JSON object in Binance's compact style (`{"e":"kline","E":1,…}`), members
/// in the order they are added, so encoded messages read like the exchange's own.
struct StreamJSONWriter {
    private(set) var text = "{"
    private var isEmpty = true

    private mutating func key(_ name: StaticString) {
        if !isEmpty { text += "," }
        isEmpty = false
        text += "\""
        text += name.description
        text += "\":"
    }

    mutating func field(_ name: StaticString, _ value: Int64) {
        key(name)
        text += String(value)
    }

    mutating func field(_ name: StaticString, _ value: Timestamp) {
        field(name, value.milliseconds)
    }

    mutating func field(_ name: StaticString, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func field(_ name: StaticString, string value: String) {
        key(name)
        JSONStringLiteral.append(value, to: &text)
    }

    mutating func field(_ name: StaticString, nullableString value: String?) {
        guard let value else {
            key(name)
            text += "null"
            return
        }
        field(name, string: value)
    }

    /// A decimal as a JSON string with at least `places` fractional digits.
    mutating func field(_ name: StaticString, _ value: ExactDecimal, places: Int) {
        key(name)
        text += "\""
        text += StreamJSONWriter.fixed(value, places: places)
        text += "\""
    }

    /// A value that is already JSON (a nested object or array).
    mutating func field(_ name: StaticString, json: String) {
        key(name)
        text += json
    }

    mutating func finish() -> String {
        text += "}"
        return text
    }

    /// Binance prints amounts with a fixed number of places (`"0.01000000"`). A value with more
    /// places than asked keeps them all: an encoder must never round money.
    static func fixed(_ value: ExactDecimal, places: Int) -> String {
        let places = max(places, value.scale, 0)
        var digits = String(value.significand.magnitude)
        digits += String(repeating: "0", count: places - value.scale)
        if digits.count <= places {
            digits = String(repeating: "0", count: places - digits.count + 1) + digits
        }
        var result = value.isNegative ? "-" : ""
        if places == 0 {
            result += digits
        } else {
            let split = digits.index(digits.endIndex, offsetBy: -places)
            result += digits[..<split] + "." + digits[split...]
        }
        return result
    }
}
