public import GordonDomain
public import GordonKernel
import GordonStrategy

extension BinanceKlineCSV {
    /// A 12-column kline file as exact `Kline`s, every column kept, for storing in
    /// `market_data.klines` (the `Bar` parse rounds prices to `Double` and drops columns 7–12).
    public static func parseKlines(_ bytes: [UInt8], name: String, symbol: Symbol, interval: Interval) throws(GordonError) -> [Kline] {
        var reader = try KlineReader(bytes, name: name, symbol: symbol, interval: interval)
        return try reader.next(upTo: .max)
    }

    /// Reads a 12-column kline file as exact `Kline`s a batch at a time, so an import can
    /// write one batch while the next is read.
    ///
    /// The whole file is checked by the `Bar` parse when the reader is made, so its structure
    /// meets every rule of the type's note (with the same one-line errors) before the first
    /// kline is handed out; batches then read the same fields' digits exactly, and a row a
    /// `Kline` refuses (a taker volume above the volume, a close time before the open, a
    /// field past 38 digits) fails its batch with the line named. A 6-column file is refused:
    /// it lacks what a stored kline needs.
    public struct KlineReader: Sendable {
        let bytes: [UInt8]
        let name: String
        let symbol: Symbol
        let interval: Interval
        public let count: Int
        var index = 0
        var line = 0
        var inMicroseconds = false

        public init(_ bytes: [UInt8], name: String, symbol: Symbol, interval: Interval) throws(GordonError) {
            var bars: [Bar] = []
            try parse(bytes, name: name, interval: interval, into: &bars)
            self.bytes = bytes
            self.name = name
            self.symbol = symbol
            self.interval = interval
            self.count = bars.count
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
            inMicroseconds = !bars.isEmpty && firstOpenTimeIsMicroseconds()
        }

        /// Up to `limit` klines, in file order; empty at the end.
        public mutating func next(upTo limit: Int) throws(GordonError) -> [Kline] {
            var klines: [Kline] = []
            klines.reserveCapacity(min(limit, count))
            var failure: GordonError?
            bytes.withUnsafeBufferPointer { buffer in
                do throws(GordonError) {
                    while klines.count < limit, let fields = nextRow(buffer) {
                        klines.append(try kline(fields, buffer))
                    }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
            return klines
        }

        private func firstOpenTimeIsMicroseconds() -> Bool {
            var copy = self
            return bytes.withUnsafeBufferPointer { buffer in
                guard let fields = copy.nextRow(buffer) else { return false }
                return Self.integer(fields[0], buffer) > microsecondThreshold
            }
        }

        private func failure(_ reason: String) -> GordonError {
            GordonError(.invalidMarketData, "\(name) line \(line): \(reason)", context: ["file": name, "line": "\(line)"])
        }

        private func kline(_ fields: [Range<Int>], _ buffer: UnsafeBufferPointer<UInt8>) throws(GordonError) -> Kline {
            guard fields.count == 12 else { throw failure("importing needs Binance's 12 columns, found \(fields.count)") }
            let field = { (column: Int) in fields[column] }
            // The `Bar` parse lets any unsigned decimal through in columns 7–12.
            for column in [6, 8] where !fields[column].allSatisfy({ buffer[$0] &- 48 < 10 }) || fields[column].count > 18 {
                throw failure("\(columnNames[column]) is not a whole number")
            }
            var openTime = Self.integer(field(0), buffer)
            var closeTime = Self.integer(field(6), buffer)
            if inMicroseconds {
                openTime /= 1000
                closeTime /= 1000
            }
            func decimal(_ column: Int) throws(GordonError) -> ExactDecimal {
                guard let value = Self.decimal(field(column), buffer) else {
                    throw failure("\(columnNames[column]) has more digits than a decimal holds")
                }
                return value
            }
            do throws(GordonError) {
                return try Kline(
                    symbol: symbol, interval: interval, openTime: Timestamp(milliseconds: openTime), closeTime: Timestamp(milliseconds: closeTime),
                    open: try Price(try decimal(1)), high: try Price(try decimal(2)), low: try Price(try decimal(3)), close: try Price(try decimal(4)),
                    volume: try Quantity(try decimal(5)), quoteVolume: try decimal(7), trades: Int(clamping: Self.integer(field(8), buffer)),
                    takerBuyBaseVolume: try decimal(9), takerBuyQuoteVolume: try decimal(10), isClosed: true)
            } catch {
                throw failure(error.message)
            }
        }
    }
}

extension BinanceKlineCSV.KlineReader {
    /// The next row's field ranges, skipping blank lines and the header; nil at the end.
    mutating func nextRow(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>]? {
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
            return fields
        }
        return nil
    }

    /// Digits only (the `Bar` parse checked them), at most 18.
    static func integer(_ field: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>) -> Int64 {
        var value: Int64 = 0
        for position in field { value = value &* 10 &+ Int64(bytes[position] &- 48) }
        return value
    }

    /// An unsigned decimal (checked by the `Bar` parse), or nil past 38 digits or 32 places.
    ///
    /// Fractional zeros are held back until a non-zero digit follows, so Binance's padding
    /// (`42283.58000000`) never reaches the significand and the value needs no normalizing
    /// (128-bit divisions, most of the cost otherwise); up to 19 digits add up in 64 bits.
    static func decimal(_ field: Range<Int>, _ bytes: UnsafeBufferPointer<UInt8>) -> ExactDecimal? {
        var small: UInt64 = 0
        var large: Int128 = 0
        var digits = 0
        var scale = 0
        var pendingZeros = 0
        var sawDot = false
        func push(_ digit: UInt8) {
            digits += 1
            if digits <= 19 {
                small = small &* 10 &+ UInt64(digit)
            } else {
                if digits == 20 { large = Int128(small) }
                large = large &* 10 &+ Int128(digit)
            }
        }
        for position in field {
            let byte = bytes[position]
            if byte == 46 {
                sawDot = true
                continue
            }
            let digit = byte &- 48
            if sawDot {
                if digit == 0 {
                    pendingZeros += 1
                    continue
                }
                for _ in 0..<pendingZeros { push(0) }
                scale += pendingZeros + 1
                pendingZeros = 0
            } else if digits == 0 && digit == 0 {
                continue  // leading zeros add nothing
            }
            push(digit)
            guard digits <= 38 else { return nil }
        }
        guard scale <= ExactDecimal.maxScale else { return nil }
        return ExactDecimal(significand: digits <= 19 ? Int128(small) : large, scale: scale)
    }
}
