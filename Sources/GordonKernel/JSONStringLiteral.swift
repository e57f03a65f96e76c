/// JSON string literals for the JSON the project writes by hand (the NATS CONNECT line,
/// Binance stream and WebSocket API messages): quotes, backslashes and control characters
/// escaped, everything else as it is.
public enum JSONStringLiteral {
    public static func append(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    public static func quoted(_ value: String) -> String {
        var text = ""
        append(value, to: &text)
        return text
    }
}
