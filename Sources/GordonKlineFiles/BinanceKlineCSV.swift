public import GordonDomain
public import GordonKernel
public import GordonStrategy

/// Binance public-data kline files (data.binance.vision, spot monthly and daily klines).
///
/// A row has 12 columns: open_time, open, high, low, close, volume, close_time,
/// quote_volume, count, taker_buy_volume, taker_buy_quote_volume, ignore. A file may also
/// have only the first 6 (open_time…volume); its first row (or its header) decides which,
/// and every row must then have that many.
///
/// Accepted: a header line with Binance's column names, or none; LF or CRLF; a missing
/// final newline; blank lines; timestamps in milliseconds or, as in files from 2025 on,
/// microseconds (decided per file: an open time above 10^14 is microseconds, and is
/// converted to milliseconds). Checked per row: the column count, that every field is an
/// unsigned number, `low ≤ open, close ≤ high`, the open time on the interval's grid and
/// after the previous row's. Columns 7–12 are checked but not kept.
///
/// Prices are parsed as decimals: the digits become an integer that is divided by a power
/// of ten, a single correctly rounded operation, so a price with at most 8 decimals is the
/// `Double` nearest its text and `BarSeries.exactPrice` gives the text back.
/// `priceDecimals` is the most significant fractional digits seen in open, high, low and
/// close (trailing zeros do not count: Binance pads every price to 8 places, so
/// `42283.58000000` has 2), capped at 8.
///
/// Errors are `invalidMarketData` with one line naming the file, the line and the fault:
/// `BTCUSDT-1m-2024-01.csv line 17: expected 12 columns, found 7`.
public enum BinanceKlineCSV {
    public static let columnNames = ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume",
                                     "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"]
    public static let header = columnNames.joined(separator: ",")

    /// Parses one file's bytes (`name` is for messages) into a series of `symbol` and
    /// `interval`.
    public static func parse(_ bytes: [UInt8], name: String, symbol: Symbol,
                             interval: Interval) throws(GordonError) -> BarSeries {
        var bars: [Bar] = []
        let decimals = try parse(bytes, name: name, interval: interval, into: &bars)
        var series = BarSeries(symbol: symbol, interval: interval, priceDecimals: decimals)
        series.reserveCapacity(bars.count)
        for bar in bars { series.append(bar) }
        return series
    }

    /// Parses one file's bytes and appends its bars to `bars`. Returns the file's price
    /// decimals (0…8, see the type's note).
    @discardableResult
    public static func parse(_ bytes: [UInt8], name: String, interval: Interval,
                             into bars: inout [Bar]) throws(GordonError) -> Int {
        try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(GordonError) -> Int in
            try parse(buffer, name: name, interval: interval, into: &bars)
        }
    }

    /// As `parse(_:name:interval:into:)`, over borrowed bytes.
    @discardableResult
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>, name: String, interval: Interval,
                             into bars: inout [Bar]) throws(GordonError) -> Int {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return 0 }
        var parser = Parser(base, count: bytes.count, name: name, interval: interval)
        return try parser.run(into: &bars)
    }

    // MARK: Writing

    /// The series as a Binance kline file: 12 columns, no header, LF line ends,
    /// millisecond timestamps.
    ///
    /// Prices are printed exactly, with the series' `priceDecimals`; volume with 8 decimals
    /// (as Binance does); close_time is the interval's close time (next open − 1 ms).
    /// The series does not carry the other columns, so they are stand-ins: quote_volume is
    /// close × volume (approximate, 8 decimals), count, taker_buy_volume,
    /// taker_buy_quote_volume and ignore are 0.
    public static func write(_ series: BarSeries) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(series.count * (80 + 5 * series.priceDecimals))
        let decimals = series.priceDecimals
        for index in series.indices {
            let openTime = series.openTime[index]
            appendInteger(openTime, to: &out)
            out.append(comma)
            appendFixed(series.open[index], decimals: decimals, to: &out)
            out.append(comma)
            appendFixed(series.high[index], decimals: decimals, to: &out)
            out.append(comma)
            appendFixed(series.low[index], decimals: decimals, to: &out)
            out.append(comma)
            appendFixed(series.close[index], decimals: decimals, to: &out)
            out.append(comma)
            appendFixed(series.volume[index], decimals: 8, to: &out)
            out.append(comma)
            appendInteger(series.interval.closeTime(forOpenTime: openTime), to: &out)
            out.append(comma)
            appendFixed(series.close[index] * series.volume[index], decimals: 8, to: &out)
            out.append(contentsOf: ",0,0,0,0\n".utf8)
        }
        return out
    }

    static let comma = UInt8(ascii: ",")

    static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes, room for 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[23 - count] = UInt8(truncatingIfNeeded: magnitude % 10) + 48
                magnitude /= 10
                count += 1
            } while magnitude > 0
            out.append(contentsOf: raw[(24 - count)...])
        }
    }

    /// `value` with exactly `decimals` fractional digits (fewer only for magnitudes beyond
    /// 9 × 10^18 / 10^decimals, where the digits would not be meaningful anyway).
    static func appendFixed(_ value: Double, decimals: Int, to out: inout [UInt8]) {
        guard value.isFinite else {
            out.append(UInt8(ascii: "0"))
            return
        }
        var places = decimals
        while places > 0, (value * powersOfTen[places]).magnitude >= 9.0e18 { places -= 1 }
        guard (value * powersOfTen[places]).magnitude < 9.0e18 else {
            appendInteger(value < 0 ? Int64.min + 1 : Int64.max, to: &out)  // absurd: beyond Int64
            return
        }
        let scaled = Int64((value * powersOfTen[places]).rounded())
        if scaled < 0 { out.append(UInt8(ascii: "-")) }
        let unit = Int64(powersOfTen[places])
        appendInteger(scaled.magnitude > 0 ? Int64(scaled.magnitude) / unit : 0, to: &out)
        guard places > 0 else { return }
        out.append(UInt8(ascii: "."))
        var fraction = Int64(scaled.magnitude) % unit
        let start = out.count
        for _ in 0..<places { out.append(0) }
        for position in stride(from: start + places - 1, through: start, by: -1) {
            out[position] = UInt8(truncatingIfNeeded: fraction % 10) + 48
            fraction /= 10
        }
    }

    /// 10^0 … 10^22, every one exact in a `Double`.
    static let powersOfTen: [Double] = {
        var table: [Double] = [1]
        for _ in 1...22 { table.append(table[table.count - 1] * 10) }
        return table
    }()
}

// MARK: - The parser

let microsecondThreshold: Int64 = 100_000_000_000_000  // 10^14

private struct Parser {
    let bytes: UnsafePointer<UInt8>
    let end: Int
    let name: String
    let interval: Interval
    /// The interval's length, or 0 for `1M`/`1w` grids (checked through `Interval`).
    let gridLength: Int64

    var line = 0
    var columns = 0
    var inMicroseconds = false
    var previousOpenTime: Int64 = -1
    var decimals = 0

    init(_ bytes: UnsafePointer<UInt8>, count: Int, name: String, interval: Interval) {
        self.bytes = bytes
        self.end = count
        self.name = name
        self.interval = interval
        self.gridLength = interval == .oneWeek || interval == .oneMonth ? 0 : interval.milliseconds ?? 0
    }

    func failure(_ reason: String, line: Int? = nil) -> GordonError {
        let number = line ?? self.line
        return GordonError(.invalidMarketData, "\(name) line \(number): \(reason)",
                           context: ["file": name, "line": "\(number)"])
    }

    /// The end of the line starting at `start` (its `\n`, or the end of the bytes), and the
    /// end of its content (before a `\r`).
    func lineBounds(from start: Int) -> (content: Int, next: Int) {
        var index = start
        while index < end, bytes[index] != 10 { index += 1 }
        let content = index > start && bytes[index - 1] == 13 ? index - 1 : index
        return (content, index < end ? index + 1 : end)
    }

    func fields(_ start: Int, _ contentEnd: Int) -> [String] {
        var result: [String] = []
        var fieldStart = start
        for index in start...contentEnd where index == contentEnd || bytes[index] == 44 {
            result.append(String(decoding: UnsafeBufferPointer(start: bytes + fieldStart, count: index - fieldStart),
                                 as: UTF8.self))
            fieldStart = index + 1
        }
        return result
    }

    mutating func run(into bars: inout [Bar]) throws(GordonError) -> Int {
        var index = 0
        // A UTF-8 byte-order mark, as some tools write.
        if end >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        // Room for as many rows as the first line's length suggests, plus 1/16.
        let firstLine = lineBounds(from: index).next - index
        bars.reserveCapacity(bars.count + (end - index) / max(firstLine, 16) * 17 / 16 + 16)
        while index < end {
            line += 1
            let first = bytes[index]
            if first == 10 { index += 1; continue }  // blank line
            if first == 13, index + 1 < end, bytes[index + 1] == 10 { index += 2; continue }
            if columns == 0 {
                let rows = try startFile(at: index)
                if rows != index {  // that was the header
                    index = rows
                    continue
                }
            }
            index = try row(at: index, into: &bars)
        }
        return min(decimals, 8)
    }

    /// Reads the header, if line `start` is one, or takes the column count from the first
    /// row. Returns where the rows start.
    mutating func startFile(at start: Int) throws(GordonError) -> Int {
        let (contentEnd, next) = lineBounds(from: start)
        let found = fields(start, contentEnd)
        if bytes[start] &- 48 >= 10 {
            guard found.count == 12 || found.count == 6, found == Array(BinanceKlineCSV.columnNames.prefix(found.count)) else {
                let shown = String(decoding: UnsafeBufferPointer(start: bytes + start, count: min(contentEnd - start, 60)),
                                   as: UTF8.self)
                throw failure("neither a kline row nor Binance's header (\(BinanceKlineCSV.header)): '\(shown)'")
            }
            columns = found.count
            return next
        }
        guard found.count == 12 || found.count == 6 else {
            throw failure("expected 12 columns (or 6: open_time,open,high,low,close,volume), found \(found.count)")
        }
        columns = found.count
        return start
    }

    /// A row the fast path refused: say exactly what is wrong with it.
    func diagnose(_ start: Int) -> GordonError {
        let (contentEnd, _) = lineBounds(from: start)
        let found = fields(start, contentEnd)
        guard found.count == columns else { return failure("expected \(columns) columns, found \(found.count)") }
        for (column, text) in found.enumerated() {
            let shown = text.count > 32 ? String(text.prefix(32)) + "…" : text
            let utf8 = Array(text.utf8)
            let digits = utf8.filter { $0 &- 48 < 10 }.count
            let dots = utf8.filter { $0 == 46 }.count
            if column == 0 {
                guard digits == utf8.count, (1...18).contains(digits) else {
                    return failure("open_time '\(shown)' is not a whole number of milliseconds or microseconds")
                }
            } else if digits + dots != utf8.count || digits == 0 || dots > 1 {
                return failure("\(BinanceKlineCSV.columnNames[column]) '\(shown)' is not an unsigned decimal number")
            }
        }
        return failure("malformed row")
    }

    /// Parses the row at `start`; returns the start of the next line.
    mutating func row(at start: Int, into bars: inout [Bar]) throws(GordonError) -> Int {
        var index = start
        // open_time: at most 18 digits, so no overflow.
        var time: Int64 = 0
        var digits = 0
        while index < end {
            let digit = bytes[index] &- 48
            guard digit < 10 else { break }
            time = time &* 10 &+ Int64(digit)
            index += 1
            digits += 1
        }
        guard digits > 0, digits <= 18, index < end, bytes[index] == 44 else { throw diagnose(start) }
        index += 1
        var places = 0
        guard let open = decimal(&index, &places), index < end, bytes[index] == 44 else { throw diagnose(start) }
        var priceDecimals = places
        index += 1
        guard let high = decimal(&index, &places), index < end, bytes[index] == 44 else { throw diagnose(start) }
        priceDecimals = max(priceDecimals, places)
        index += 1
        guard let low = decimal(&index, &places), index < end, bytes[index] == 44 else { throw diagnose(start) }
        priceDecimals = max(priceDecimals, places)
        index += 1
        guard let close = decimal(&index, &places), index < end, bytes[index] == 44 else { throw diagnose(start) }
        priceDecimals = max(priceDecimals, places)
        index += 1
        guard let volume = decimal(&index, &places) else { throw diagnose(start) }
        if columns == 12 {
            for _ in 6..<12 {
                guard index < end, bytes[index] == 44 else { throw diagnose(start) }
                index += 1
                let fieldStart = index
                var dots = 0
                while index < end {
                    let byte = bytes[index]
                    if byte &- 48 < 10 {
                        index += 1
                    } else if byte == 46 {
                        dots += 1
                        index += 1
                    } else {
                        break
                    }
                }
                guard index - fieldStart > dots, dots <= 1 else { throw diagnose(start) }
            }
        }
        // The line must end here.
        var next = index
        if index < end {
            if bytes[index] == 10 {
                next = index + 1
            } else if bytes[index] == 13, index + 1 < end, bytes[index + 1] == 10 {
                next = index + 2
            } else if bytes[index] == 13, index + 1 == end {
                next = end
            } else {
                throw diagnose(start)
            }
        }

        // Units, grid, order, range.
        if previousOpenTime < 0 { inMicroseconds = time > microsecondThreshold }
        if inMicroseconds {
            guard time > microsecondThreshold else {
                throw failure("open_time \(time) is in milliseconds but the file's first row is in microseconds")
            }
            guard time % 1000 == 0 else { throw failure("open_time \(time) µs is not on the \(interval) grid") }
            time /= 1000
        } else if time > microsecondThreshold {
            throw failure("open_time \(time) is in microseconds but the file's first row is in milliseconds")
        }
        let onGrid = gridLength > 0 ? time % gridLength == 0 : interval.openTime(containing: time) == time
        guard onGrid else {
            throw failure("open_time \(time) (\(Timestamp(milliseconds: time))) is not on the \(interval) grid")
        }
        guard time > previousOpenTime else {
            throw failure("open_time \(Timestamp(milliseconds: time)) is not after the previous row's "
                          + "(\(Timestamp(milliseconds: previousOpenTime)))")
        }
        guard low <= open, low <= close, high >= open, high >= close else {
            throw failure("prices out of order: need low ≤ open, close ≤ high, got open \(open) high \(high) low \(low) close \(close)")
        }
        previousOpenTime = time
        decimals = max(decimals, priceDecimals)
        bars.append(Bar(openTime: time, open: open, high: high, low: low, close: close, volume: volume))
        return next
    }

    /// An unsigned decimal at `index`, which is left on the byte after it. `places` gets
    /// its significant fractional digits (trailing zeros dropped). Nil if there is no number.
    @inline(__always)
    func decimal(_ index: inout Int, _ places: inout Int) -> Double? {
        let start = index
        var significand: UInt64 = 0
        var digits = 0
        while index < end {
            let digit = bytes[index] &- 48
            guard digit < 10 else { break }
            significand = significand &* 10 &+ UInt64(digit)
            index += 1
            digits += 1
        }
        var fraction = 0
        // The significand and fraction length up to the last non-zero fractional digit.
        var kept = significand
        var keptFraction = 0
        if index < end, bytes[index] == 46 {
            index += 1
            while index < end {
                let digit = bytes[index] &- 48
                guard digit < 10 else { break }
                significand = significand &* 10 &+ UInt64(digit)
                index += 1
                fraction += 1
                if digit != 0 {
                    kept = significand
                    keptFraction = fraction
                }
            }
        }
        guard digits + fraction > 0 else { return nil }
        places = keptFraction
        // Exact when the integer fits 53 bits: one correctly rounded division.
        if digits + fraction <= 19, kept < 1 << 53, keptFraction <= 22 {
            return Double(kept) / BinanceKlineCSV.powersOfTen[keptFraction]
        }
        // Rare: very long numbers. The standard library's parser is correctly rounded.
        return Double(String(decoding: UnsafeBufferPointer(start: bytes + start, count: index - start), as: UTF8.self))
    }
}
