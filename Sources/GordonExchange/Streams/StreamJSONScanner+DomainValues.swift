import GordonDomain
import GordonKernel

/// Readers that turn a scanned JSON value straight into a domain value, naming the field
/// when the value is wrong.
extension StreamJSONScanner {
    mutating func timestamp(_ field: StaticString) throws(StreamDecodingFailure) -> Timestamp {
        Timestamp(milliseconds: try int64(field))
    }

    /// A decimal string (`"0.00100000"`). Short plain decimals, which is nearly all of them,
    /// are converted here; anything else goes to `ExactDecimal(parsing:)`, which decides and
    /// names the problem, so both paths accept exactly the same text.
    mutating func decimal(_ field: StaticString) throws(StreamDecodingFailure) -> ExactDecimal {
        let start = position
        let (range, hasEscapes) = try stringToken(field)
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        if !hasEscapes, let value = StreamJSONScanner.shortPlainDecimal(raw) { return value }
        do {
            return try ExactDecimal(parsing: String(decoding: raw, as: UTF8.self))
        } catch {
            throw StreamDecodingFailure("field \"\(field)\": \(error.message)", offset: start, underlying: error)
        }
    }

    /// `-?[0-9]+(\.[0-9]+)?` with at most 18 digits in all, which fits `Int64` exactly; nil for
    /// anything else (including valid decimals that are merely long). Fractional zeros are held
    /// back until a non-zero digit follows, so trailing ones (`"0.01000000"`) never reach the
    /// value and `ExactDecimal` has nothing left to normalize: no division on this path.
    static func shortPlainDecimal(_ raw: UnsafeBufferPointer<UInt8>) -> ExactDecimal? {
        var index = 0
        let negative = raw.first == UInt8(ascii: "-")
        if negative { index = 1 }
        var magnitude: Int64 = 0
        var scale = 0
        var digits = 0
        var integerDigits = 0
        var pendingZeros = 0
        var sawDot = false
        while index < raw.count {
            let byte = raw[index]
            index += 1
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                guard digits < 18 else { return nil }
                digits += 1
                let digit = Int64(byte - UInt8(ascii: "0"))
                if !sawDot {
                    integerDigits += 1
                    magnitude = magnitude * 10 + digit
                } else if digit == 0 {
                    pendingZeros += 1
                } else {
                    magnitude = magnitude * powersOfTen[pendingZeros + 1] + digit
                    scale += pendingZeros + 1
                    pendingZeros = 0
                }
            } else if byte == UInt8(ascii: "."), !sawDot, integerDigits > 0 {
                sawDot = true
            } else {
                return nil
            }
        }
        guard integerDigits > 0, !sawDot || digits > integerDigits else { return nil }
        return ExactDecimal(significand: Int128(negative ? -magnitude : magnitude), scale: scale)
    }

    /// 10^0 … 10^18.
    private static let powersOfTen: [Int64] = (0...18).map { exponent in (0..<exponent).reduce(1) { power, _ in power * 10 } }

    mutating func price(_ field: StaticString) throws(StreamDecodingFailure) -> Price {
        let start = position
        let value = try decimal(field)
        return try StreamJSONScanner.domainValue(field, at: start) { () throws(GordonError) in try Price(value) }
    }

    mutating func quantity(_ field: StaticString) throws(StreamDecodingFailure) -> Quantity {
        let start = position
        let value = try decimal(field)
        return try StreamJSONScanner.domainValue(field, at: start) { () throws(GordonError) in try Quantity(value) }
    }

    /// A symbol. Validating and splitting one costs more than the rest of a kline, so text
    /// equal to `known` (a kline names its symbol twice) or to one of `knownSymbols` is that
    /// symbol, reused.
    mutating func symbol(_ field: StaticString, reusing known: Symbol? = nil) throws(StreamDecodingFailure) -> Symbol {
        let start = position
        let raw = UnsafeBufferPointer(rebasing: bytes[try stringToken(field).range])
        if let known, known.rawValue.utf8.elementsEqual(raw) { return known }
        for candidate in knownSymbols where candidate.rawValue.utf8.elementsEqual(raw) { return candidate }
        if let symbol = StreamJSONScanner.symbolSplitOnBytes(raw) { return symbol }
        return try StreamJSONScanner.domainValue(field, at: start) { () throws(GordonError) in
            try Symbol(String(decoding: raw, as: UTF8.self))
        }
    }

    /// `Symbol(text)` for a symbol with a known quote asset, built the way `Symbol.init` splits
    /// it (the first of `Symbol.knownQuoteAssets` the text ends with) but comparing bytes:
    /// `Symbol.init`'s `String.hasSuffix` loop costs more than all the rest of a kline.
    /// Nil for anything else, which then goes through `Symbol.init` itself.
    static func symbolSplitOnBytes(_ raw: UnsafeBufferPointer<UInt8>) -> Symbol? {
        guard (2...20).contains(raw.count), raw.allSatisfy(isUppercaseLetterOrDigit) else { return nil }
        for quote in knownQuoteAssets {
            let quoteLength = quote.bytes.count
            guard raw.count > quoteLength, raw.suffix(quoteLength).elementsEqual(quote.bytes) else { continue }
            let base = String(decoding: UnsafeBufferPointer(rebasing: raw[..<(raw.count - quoteLength)]), as: UTF8.self)
            return try? Symbol(base: Asset(base), quote: quote.asset)
        }
        return nil
    }

    /// `Symbol.knownQuoteAssets` in its order, as bytes and ready-made assets (a constant table).
    private static let knownQuoteAssets: [(bytes: [UInt8], asset: Asset)] = Symbol.knownQuoteAssets.compactMap { text in
        (try? Asset(text)).map { (Array(text.utf8), $0) }
    }

    private static func isUppercaseLetterOrDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    mutating func asset(_ field: StaticString) throws(StreamDecodingFailure) -> Asset {
        let start = position
        let raw = UnsafeBufferPointer(rebasing: bytes[try stringToken(field).range])
        return try StreamJSONScanner.domainValue(field, at: start) { () throws(GordonError) in
            try Asset(String(decoding: raw, as: UTF8.self))
        }
    }

    /// One of a Binance enum's raw values (`"BUY"`, `"LIMIT"`, `"FILLED"`, `"1m"`).
    mutating func enumValue<Value: RawRepresentable<String>>(_ type: Value.Type, _ field: StaticString) throws(StreamDecodingFailure) -> Value {
        let start = position
        let text = try string(field)
        guard let value = Value(rawValue: text) else {
            throw StreamDecodingFailure("field \"\(field)\": unknown value \(StreamDecodingFailure.quoted(text))", offset: start)
        }
        return value
    }

    /// Runs a validating domain initializer, turning its error into a failure naming the field.
    static func domainValue<Value>(_ field: StaticString, at offset: Int,
                                   _ make: () throws(GordonError) -> Value) throws(StreamDecodingFailure) -> Value {
        do {
            return try make()
        } catch {
            throw StreamDecodingFailure("field \"\(field)\": \(error.message)", offset: offset, underlying: error)
        }
    }
}

extension StreamJSONScanner {
    /// The value of a field the message must carry.
    func required<Value>(_ value: Value?, _ field: StaticString) throws(StreamDecodingFailure) -> Value {
        guard let value else { throw StreamDecodingFailure("missing field \"\(field)\"") }
        return value
    }
}
