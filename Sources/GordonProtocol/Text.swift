/// Text checks shared by subjects and payloads.
///
/// Everything Gordon puts in an event ends up in logs, metrics labels and database rows,
/// so free text is bounded and free of control characters (a newline in a reason would
/// forge a log line), and identifiers are plain printable ASCII.
enum Text {
    /// `text` as a log-safe context value: control characters escaped as `\u{…}`, cut to
    /// `limit` characters, so a hostile value can neither forge log lines nor flood them.
    static func quoted(_ text: some StringProtocol, limit: Int = 80) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            guard count < limit else {
                out += "…"
                break
            }
            if isControl(scalar) {
                out += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
            || scalar.properties.generalCategory == .control
            || scalar.properties.generalCategory == .lineSeparator
            || scalar.properties.generalCategory == .paragraphSeparator
    }

    /// Free text (a reason): 1...`maxBytes` UTF-8 bytes without control characters.
    static func isFreeText(_ text: String, maxBytes: Int) -> Bool {
        (1...maxBytes).contains(text.utf8.count) && !text.unicodeScalars.contains(where: isControl)
    }

    /// A printable-ASCII word (a provider, a unit, an instance id): no spaces, no controls.
    static func isPrintableWord(_ text: String, maxBytes: Int) -> Bool {
        (1...maxBytes).contains(text.utf8.count) && text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// `^[a-z0-9][a-z0-9_]{0,63}$`: the shape of metric and breaker names.
    static func isSnakeName(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...64).contains(bytes.count), isLowerAlphanumeric(bytes[0]) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "_") }
    }

    static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
