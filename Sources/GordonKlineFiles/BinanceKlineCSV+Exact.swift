public import GordonDomain
public import GordonKernel
import GordonStrategy

extension BinanceKlineCSV {
    /// A 12-column kline file as exact `Kline`s, every column kept, for storing in
    /// `market_data.klines` (the `Bar` parse rounds prices to `Double` and drops columns 7–12).
    ///
    /// The file is first checked by the `Bar` parse, so it meets every rule of the type's note
    /// (and fails with the same one-line errors); this pass then reads the same fields'
    /// digits exactly. A 6-column file is refused: it lacks what a stored kline needs.
    public static func parseKlines(_ bytes: [UInt8], name: String, symbol: Symbol, interval: Interval) throws(GordonError) -> [Kline] {
        try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(GordonError) -> [Kline] in
            try parseKlines(buffer, name: name, symbol: symbol, interval: interval)
        }
    }

    /// As `parseKlines(_:name:symbol:interval:)`, over borrowed bytes.
    public static func parseKlines(_ bytes: UnsafeBufferPointer<UInt8>, name: String, symbol: Symbol,
                                   interval: Interval) throws(GordonError) -> [Kline] {
        var bars: [Bar] = []
        try parse(bytes, name: name, interval: interval, into: &bars)
        var klines: [Kline] = []
        klines.reserveCapacity(bars.count)
        var reader = ExactRowReader(bytes: bytes, name: name)
        var inMicroseconds: Bool?
        while let (line, fields) = try reader.nextRow() {
            guard fields.count == 12 else {
                throw GordonError(.invalidMarketData, "\(name) line \(line): importing needs Binance's 12 columns, found \(fields.count)",
                                  context: ["file": name, "line": "\(line)"])
            }
            var openTime = reader.integer(fields[0])
            var closeTime = reader.integer(fields[6])
            if inMicroseconds == nil { inMicroseconds = openTime > microsecondThreshold }
            if inMicroseconds == true {
                openTime /= 1000
                closeTime /= 1000
            }
            func decimal(_ column: Int) throws(GordonError) -> ExactDecimal {
                guard let value = reader.decimal(fields[column]) else {
                    throw GordonError(.invalidMarketData, "\(name) line \(line): \(columnNames[column]) has more digits than a decimal holds",
                                      context: ["file": name, "line": "\(line)"])
                }
                return value
            }
            do throws(GordonError) {
                klines.append(try Kline(
                    symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: openTime), closeTime: Timestamp(milliseconds: closeTime),
                    open: try Price(try decimal(1)), high: try Price(try decimal(2)), low: try Price(try decimal(3)), close: try Price(try decimal(4)),
                    volume: try Quantity(try decimal(5)), quoteVolume: try decimal(7), trades: Int(clamping: reader.integer(fields[8])),
                    takerBuyBaseVolume: try decimal(9), takerBuyQuoteVolume: try decimal(10), isClosed: true))
            } catch {
                throw GordonError(.invalidMarketData, "\(name) line \(line): \(error.message)", context: ["file": name, "line": "\(line)"])
            }
        }
        return klines
    }
}

/// Walks the rows of a file the `Bar` parse has accepted: the field ranges of each row,
/// skipping a byte-order mark, blank lines and the header. Digits are read straight from the
/// bytes: an import reads millions of fields.
private struct ExactRowReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let name: String
    var index = 0
    var line = 0

    init(bytes: UnsafeBufferPointer<UInt8>, name: String) {
        self.bytes = bytes
        self.name = name
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
    }

    mutating func nextRow() throws(GordonError) -> (Int, [Range<Int>])? {
        while index < bytes.count {
            line += 1
            var end = index
            while end < bytes.count, bytes[end] != 10 { end += 1 }
            let next = end < bytes.count ? end + 1 : end
            if end > index, bytes[end - 1] == 13 { end -= 1 }
            defer { index = next }
            guard end > index, bytes[index] &- 48 < 10 else { continue }  // blank line or the header
            var fields: [Range<Int>] = []
            fields.reserveCapacity(12)
            var start = index
            for position in index...end where position == end || bytes[position] == 44 {
                fields.append(start..<position)
                start = position + 1
            }
            return (line, fields)
        }
        return nil
    }

    /// Digits only (the `Bar` parse checked them), at most 18.
    func integer(_ field: Range<Int>) -> Int64 {
        var value: Int64 = 0
        for position in field { value = value &* 10 &+ Int64(bytes[position] &- 48) }
        return value
    }

    /// An unsigned decimal (checked by the `Bar` parse), or nil past 38 digits or 32 places.
    func decimal(_ field: Range<Int>) -> ExactDecimal? {
        var magnitude: Int128 = 0
        var digits = 0
        var scale = 0
        var sawDot = false
        for position in field {
            let byte = bytes[position]
            if byte == 46 {
                sawDot = true
                continue
            }
            digits += 1
            guard digits <= 38 else { return nil }
            magnitude = magnitude * 10 + Int128(byte &- 48)
            if sawDot { scale += 1 }
        }
        guard scale <= ExactDecimal.maxScale else { return nil }
        return ExactDecimal(significand: magnitude, scale: scale)
    }
}
