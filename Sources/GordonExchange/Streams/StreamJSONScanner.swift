import GordonDomain

/// A forward-only reader over one JSON text, for the handful of flat shapes Binance streams send.
///
/// Why not `JSONDecoder`: stream messages arrive thousands of times a second and every one
/// would build a container tree and box each field; this reads fields straight out of the
/// bytes. It is strict JSON (RFC 8259) and fuzz-safe: every byte access is bounds-checked by
/// hand, integers are overflow-checked, and nesting is walked iteratively with a depth cap, so
/// no input can trap or exhaust the stack; anything wrong is a `StreamDecodingFailure`.
///
/// Typed readers (`int64`, `decimal`, …) take the field's name so a failure names it.
struct StreamJSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    /// Symbols the caller expects; text equal to one of them is that symbol, unvalidated again.
    let knownSymbols: [Symbol]

    /// Deeper nesting than this is refused: Binance's deepest message is three levels.
    static let maxDepth = 64

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0, knownSymbols: [Symbol] = []) {
        self.bytes = bytes
        self.position = position
        self.knownSymbols = knownSymbols
    }

    // MARK: - Bytes and structure

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    func failure(_ message: String) -> StreamDecodingFailure {
        StreamDecodingFailure(message, offset: position)
    }

    /// `expectation` is built only on failure: the hot path must not format strings.
    private func unexpected(_ expectation: @autoclosure () -> String) -> StreamDecodingFailure {
        guard let byte = current else { return failure("message ends where \(expectation()) was expected") }
        let found = (0x21..<0x7F).contains(byte) ? "'\(Unicode.Scalar(byte))'" : "byte 0x\(String(byte, radix: 16))"
        return failure("expected \(expectation()), found \(found)")
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return
            }
        }
    }

    private mutating func expect(_ byte: UInt8, _ expectation: @autoclosure () -> String) throws(StreamDecodingFailure) {
        skipWhitespace()
        guard current == byte else { throw unexpected(expectation()) }
        position += 1
    }

    /// Only whitespace may follow the top-level value.
    mutating func expectEnd() throws(StreamDecodingFailure) {
        skipWhitespace()
        guard position == bytes.count else { throw failure("unexpected text after the JSON value") }
    }

    // MARK: - Objects

    /// Where a member loop is: the first member has no leading comma.
    struct ObjectCursor {
        fileprivate var isFirst = true
    }

    mutating func enterObject(_ field: StaticString) throws(StreamDecodingFailure) -> ObjectCursor {
        try expect(UInt8(ascii: "{"), "an object for \(field)")
        return ObjectCursor()
    }

    /// The next member's key, as the range of its raw bytes between the quotes, with the
    /// scanner left at the member's value; nil once the closing `}` has been consumed.
    mutating func nextKey(_ cursor: inout ObjectCursor) throws(StreamDecodingFailure) -> Range<Int>? {
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if cursor.isFirst {
            cursor.isFirst = false
        } else {
            guard current == UInt8(ascii: ",") else { throw unexpected("',' or '}' in an object") }
            position += 1
        }
        let key = try stringToken("object key").range
        try expect(UInt8(ascii: ":"), "':' after an object key")
        return key
    }

    /// The key's byte when it is a single byte, as almost every Binance stream field is.
    func letter(_ key: Range<Int>) -> UInt8? {
        key.count == 1 ? bytes[key.lowerBound] : nil
    }

    func key(_ key: Range<Int>, is name: StaticString) -> Bool {
        guard key.count == name.utf8CodeUnitCount else { return false }
        return name.withUTF8Buffer { expected in
            var index = key.lowerBound
            for byte in expected {
                guard bytes[index] == byte else { return false }
                index += 1
            }
            return true
        }
    }

    /// The position of member `name`'s value in the object starting at `objectStart`, or nil.
    /// Stops at the first match; the caller validates the whole object when it reads it.
    func findMember(_ name: StaticString, inObjectAt objectStart: Int) throws(StreamDecodingFailure) -> Int? {
        var scanner = StreamJSONScanner(bytes, position: objectStart)
        var cursor = try scanner.enterObject("the message")
        while let key = try scanner.nextKey(&cursor) {
            if scanner.key(key, is: name) {
                scanner.skipWhitespace()
                return scanner.position
            }
            try scanner.skipValue()
        }
        return nil
    }

    // MARK: - Arrays

    struct ArrayCursor {
        fileprivate var isFirst = true
    }

    mutating func enterArray(_ field: StaticString) throws(StreamDecodingFailure) -> ArrayCursor {
        try expect(UInt8(ascii: "["), "an array for \(field)")
        return ArrayCursor()
    }

    /// True with the scanner at the next element, false once the closing `]` is consumed.
    mutating func nextElement(_ cursor: inout ArrayCursor) throws(StreamDecodingFailure) -> Bool {
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return false
        }
        if cursor.isFirst {
            cursor.isFirst = false
        } else {
            guard current == UInt8(ascii: ",") else { throw unexpected("',' or ']' in an array") }
            position += 1
        }
        return true
    }

    // MARK: - Strings

    /// Consumes a string; returns its raw content range and whether it holds escapes.
    mutating func stringToken(_ field: StaticString) throws(StreamDecodingFailure) -> (range: Range<Int>, hasEscapes: Bool) {
        skipWhitespace()
        guard current == UInt8(ascii: "\"") else { throw unexpected("a string for \(field)") }
        position += 1
        let start = position
        var hasEscapes = false
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return (start..<(position - 1), hasEscapes)
            case UInt8(ascii: "\\"):
                hasEscapes = true
                position += 1
                try skipEscapeBody(field)
            case 0..<0x20:
                throw failure("control character inside the string for \(field)")
            default:
                position += 1
            }
        }
        throw failure("unterminated string for \(field)")
    }

    /// After a backslash: one of `"\/bfnrt`, or `u` and four hex digits.
    private mutating func skipEscapeBody(_ field: StaticString) throws(StreamDecodingFailure) {
        guard let byte = current else { throw failure("unterminated string for \(field)") }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
             UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 1
        case UInt8(ascii: "u"):
            guard position + 4 < bytes.count,
                  (1...4).allSatisfy({ StreamJSONScanner.hexValue(bytes[position + $0]) != nil })
            else { throw failure("bad \\u escape in the string for \(field)") }
            position += 5
        default:
            throw failure("bad escape in the string for \(field)")
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A string value with its escapes resolved. Invalid UTF-8 and lone surrogates become
    /// U+FFFD: such text is only ever displayed or compared, never trusted as an amount.
    mutating func string(_ field: StaticString) throws(StreamDecodingFailure) -> String {
        let (range, hasEscapes) = try stringToken(field)
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard hasEscapes else { return String(decoding: raw, as: UTF8.self) }
        return StreamJSONScanner.unescape(raw)
    }

    /// Resolves escapes in content `stringToken` already validated.
    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(raw.count)
        var index = 0
        var pendingHighSurrogate: UInt32?
        func append(_ scalar: UInt32) {
            let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            utf8.append(contentsOf: String(Character(value)).utf8)
        }
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < raw.count else {
                if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
                utf8.append(byte)
                index += 1
                continue
            }
            let kind = raw[index + 1]
            index += 2
            if kind == UInt8(ascii: "u"), index + 4 <= raw.count {
                var code: UInt32 = 0
                for offset in 0..<4 { code = code << 4 | (hexValue(raw[index + offset]) ?? 0) }
                index += 4
                if let high = pendingHighSurrogate {
                    pendingHighSurrogate = nil
                    if (0xDC00...0xDFFF).contains(code) {
                        append(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00))
                        continue
                    }
                    append(high)  // lone high surrogate: not a scalar, becomes U+FFFD
                }
                if (0xD800...0xDBFF).contains(code) { pendingHighSurrogate = code } else { append(code) }
                continue
            }
            if let high = pendingHighSurrogate { append(high); pendingHighSurrogate = nil }
            switch kind {
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            default: utf8.append(kind)  // '"', '\\' and '/' stand for themselves
            }
        }
        if let high = pendingHighSurrogate { append(high) }
        return String(decoding: utf8, as: UTF8.self)
    }

    // MARK: - Numbers and literals

    /// A JSON integer that fits `Int64`; fractions, exponents and overflow are refused.
    mutating func int64(_ field: StaticString) throws(StreamDecodingFailure) -> Int64 {
        skipWhitespace()
        let negative = current == UInt8(ascii: "-")
        if negative { position += 1 }
        guard let first = current, StreamJSONScanner.isDigit(first) else { throw unexpected("an integer for \(field)") }
        var value: Int64 = 0
        var digits = 0
        while let byte = current, StreamJSONScanner.isDigit(byte) {
            let digit = Int64(byte - UInt8(ascii: "0"))
            let (shifted, overflowShift) = value.multipliedReportingOverflow(by: 10)
            // Accumulating with the final sign lets Int64.min through.
            let (next, overflowAdd) = negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflowShift, !overflowAdd else { throw failure("integer out of range for \(field)") }
            value = next
            digits += 1
            position += 1
        }
        guard first != UInt8(ascii: "0") || digits == 1 else { throw failure("integer with a leading zero for \(field)") }
        if let byte = current, byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
            throw failure("expected an integer for \(field), found a fraction or exponent")
        }
        return value
    }

    mutating func bool(_ field: StaticString) throws(StreamDecodingFailure) -> Bool {
        skipWhitespace()
        if consumeLiteral("true") { return true }
        if consumeLiteral("false") { return false }
        throw unexpected("true or false for \(field)")
    }

    /// Consumes `null` if it is next (after whitespace).
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        return consumeLiteral("null")
    }

    private mutating func consumeLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        let matches = literal.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        if matches { position += count }
        return matches
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    /// Consumes a JSON number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func skipNumber() throws(StreamDecodingFailure) {
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, StreamJSONScanner.isDigit(first) else { throw unexpected("a digit") }
        position += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if current == UInt8(ascii: ".") {
            position += 1
            guard let byte = current, StreamJSONScanner.isDigit(byte) else { throw unexpected("a digit after '.'") }
            skipDigits()
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard let byte = current, StreamJSONScanner.isDigit(byte) else { throw unexpected("a digit in the exponent") }
            skipDigits()
        }
    }

    private mutating func skipDigits() {
        while let byte = current, StreamJSONScanner.isDigit(byte) { position += 1 }
    }

    // MARK: - Skipping

    /// Consumes any one JSON value, validating it, without recursion: open containers are
    /// tracked in a 64-bit stack (bit set = object), which is also what caps the depth.
    mutating func skipValue() throws(StreamDecodingFailure) {
        var containers: UInt64 = 0
        var depth = 0
        while true {
            // A value starts here.
            skipWhitespace()
            guard let byte = current else { throw unexpected("a value") }
            var openedContainer = false
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard depth < StreamJSONScanner.maxDepth else { throw failure("nesting deeper than \(StreamJSONScanner.maxDepth) levels") }
                let isObject = byte == UInt8(ascii: "{")
                containers = containers << 1 | (isObject ? 1 : 0)
                depth += 1
                position += 1
                skipWhitespace()
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if current == closer {
                    position += 1
                    containers >>= 1
                    depth -= 1
                } else {
                    openedContainer = true
                    if isObject {
                        _ = try stringToken("object key")
                        try expect(UInt8(ascii: ":"), "':' after an object key")
                    }
                }
            case UInt8(ascii: "\""): _ = try stringToken("a string value")
            case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
                guard consumeLiteral("true") || consumeLiteral("false") || consumeLiteral("null") else { throw unexpected("a value") }
            default: try skipNumber()
            }
            if openedContainer { continue }
            // A value ended: close containers until one continues with ','.
            while true {
                guard depth > 0 else { return }
                skipWhitespace()
                let isObject = containers & 1 == 1
                let closer = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if current == closer {
                    position += 1
                    containers >>= 1
                    depth -= 1
                    continue
                }
                guard current == UInt8(ascii: ",") else { throw unexpected(isObject ? "',' or '}' in an object" : "',' or ']' in an array") }
                position += 1
                if isObject {
                    _ = try stringToken("object key")
                    try expect(UInt8(ascii: ":"), "':' after an object key")
                }
                break
            }
        }
    }
}
