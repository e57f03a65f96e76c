public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// Binance's public-data kline files (data.binance.vision, spot klines), 12 columns:
/// open_time, open, high, low, close, volume, close_time, quote_volume, count,
/// taker_buy_volume, taker_buy_quote_volume, ignore.
///
/// Accepted variants: with or without the header line; LF or CRLF; a missing final
/// newline; timestamps in milliseconds or, as in files from 2025 on, microseconds
/// (detected per file: an open time above 10^14 is microseconds). Only the first six
/// columns are used; fewer than six, or more than twelve, is an error naming the line.
public enum BinanceKlineCSV {
    public static let header = "open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore"

    /// Parses `bytes` (the file `name`, for messages) and appends its bars to `series`.
    /// Returns the most fractional digits seen in a price column (for `priceDecimals`).
    public static func parse(_ bytes: [UInt8], name: String, into bars: inout [Bar]) throws(GordonError) -> Int {
        var decimals = 0
        var microseconds: Bool?
        var line = 0
        var fields: [Double] = Array(repeating: 0, count: 6)
        var openTimes: Int64 = 0
        let failed: GordonError? = bytes.withUnsafeBufferPointer { buffer in
          do throws(GordonError) {
            var position = 0
            let end = buffer.count
            while position < end {
                line += 1
                var lineEnd = position
                while lineEnd < end, buffer[lineEnd] != 10 { lineEnd += 1 }
                var contentEnd = lineEnd
                if contentEnd > position, buffer[contentEnd - 1] == 13 { contentEnd -= 1 }
                defer { position = lineEnd + 1 }
                if contentEnd == position { continue }  // blank line
                if line == 1, buffer[position] < UInt8(ascii: "0") || buffer[position] > UInt8(ascii: "9") {
                    continue  // header
                }
                func failure(_ reason: String) -> GordonError {
                    GordonError(.invalidMarketData, "\(name) line \(line): \(reason)", context: ["file": name, "line": "\(line)"])
                }
                var column = 0
                var start = position
                var index = position
                while true {
                    let atEnd = index == contentEnd
                    if atEnd || buffer[index] == UInt8(ascii: ",") {
                        if column < 6 {
                            if column == 0 {
                                guard let time = parseInteger(buffer, start, index) else {
                                    throw failure("open_time '\(text(buffer, start, index))' is not an integer")
                                }
                                openTimes = time
                            } else {
                                guard let (value, places) = parseDecimal(buffer, start, index) else {
                                    throw failure("\(columnNames[column]) '\(text(buffer, start, index))' is not a decimal number")
                                }
                                fields[column] = value
                                if column <= 4 { decimals = max(decimals, places) }
                            }
                        }
                        column += 1
                        if atEnd { break }
                        start = index + 1
                    }
                    index += 1
                }
                guard column >= 6 && column <= 12 else {
                    throw failure("expected 12 columns (at least open_time..volume), found \(column)")
                }
                if microseconds == nil { microseconds = openTimes > 100_000_000_000_000 }
                let openTime = microseconds! ? openTimes / 1000 : openTimes
                let (open, high, low, close, volume) = (fields[1], fields[2], fields[3], fields[4], fields[5])
                guard low <= open, low <= close, high >= open, high >= close else {
                    throw failure("prices out of order: low \(low), open \(open), close \(close), high \(high)")
                }
                bars.append(Bar(openTime: openTime, open: open, high: high, low: low, close: close, volume: volume))
            }
            return nil
          } catch {
            return error
          }
        }
        if let failed { throw failed }
        return min(decimals, 8)
    }

    static let columnNames = ["open_time", "open", "high", "low", "close", "volume"]

    static func text(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<min(end, start + 40)]), as: UTF8.self)
    }

    static func parseInteger(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Int64? {
        guard end > start, end - start <= 18 else { return nil }
        var value: Int64 = 0
        for index in start..<end {
            let digit = buffer[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int64(digit)
        }
        return value
    }

    /// A non-negative plain decimal as the nearest Double: the digits as an integer divided
    /// by a power of ten, a correctly rounded division, so a value with at most 8 places
    /// maps back to its digits exactly (`BarSeries.exactPrice`). Returns the places too.
    static func parseDecimal(_ buffer: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> (Double, Int)? {
        guard end > start else { return nil }
        var significand: UInt64 = 0
        var digits = 0
        var places = 0
        var sawDot = false
        var trailingZeros = 0
        for index in start..<end {
            let byte = buffer[index]
            if byte == UInt8(ascii: ".") {
                guard !sawDot, index > start, index + 1 < end else { return nil }
                sawDot = true
                continue
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            if sawDot {
                if digit == 0 {
                    trailingZeros += 1
                    continue
                }
                for _ in 0..<trailingZeros { significand = significand &* 10 }
                places += trailingZeros + 1
                digits += trailingZeros
                trailingZeros = 0
            }
            significand = significand &* 10 &+ UInt64(digit)
            digits += 1
            guard digits <= 18 else { return nil }
        }
        guard places <= 18 else { return nil }
        return (Double(significand) / powersOfTen[places], places)
    }

    static let powersOfTen: [Double] = (0...18).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A series in Binance's format: no header, millisecond times, prices with exactly the
    /// series' decimals; quote volume is close × volume (approximate), trade counts and
    /// taker volumes are 0: the generator has no trades to count.
    public static func write(_ series: BarSeries) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(series.count * 96)
        for index in series.indices {
            let closeTime = series.interval.closeTime(forOpenTime: series.openTime[index])
            let line = "\(series.openTime[index]),\(series.exactPrice(series.open[index]).value.fixed(series.priceDecimals)),"
                + "\(series.exactPrice(series.high[index]).value.fixed(series.priceDecimals)),"
                + "\(series.exactPrice(series.low[index]).value.fixed(series.priceDecimals)),"
                + "\(series.exactPrice(series.close[index]).value.fixed(series.priceDecimals)),"
                + "\(Format.fixed(series.volume[index], 3)),\(closeTime),"
                + "\(Format.fixed(series.close[index] * series.volume[index], 4)),0,0,0,0\n"
            out.append(contentsOf: line.utf8)
        }
        return out
    }
}

extension ExactDecimal {
    /// The value with exactly `places` fractional digits (padding with zeros), as Binance
    /// writes prices; the value must not have more places.
    func fixed(_ places: Int) -> String {
        let text = description
        guard places > 0 else { return text }
        guard let dot = text.firstIndex(of: ".") else { return text + "." + String(repeating: "0", count: places) }
        let have = text.distance(from: text.index(after: dot), to: text.endIndex)
        return text + String(repeating: "0", count: max(0, places - have))
    }
}
