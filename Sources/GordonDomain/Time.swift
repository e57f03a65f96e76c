public import GordonKernel

/// An instant as milliseconds since the Unix epoch, UTC: the unit of every Binance time field.
/// Travels as a JSON integer.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// ISO 8601 in UTC with milliseconds, e.g. `2024-02-29T23:59:59.999Z`, for logs.
    public var description: String {
        let day = CivilDate.floorDivide(milliseconds, CivilDate.millisecondsPerDay)
        let date = CivilDate(daysSinceEpoch: day)
        var rest = milliseconds - day * CivilDate.millisecondsPerDay
        let millis = rest % 1000
        rest /= 1000
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(date.year, 4))-\(padded(date.month, 2))-\(padded(date.day, 2))T"
            + "\(padded(rest / 3600, 2)):\(padded(rest / 60 % 60, 2)):\(padded(rest % 60, 2)).\(padded(millis, 3))Z"
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(milliseconds: try decoder.singleValueContainer().decode(Int64.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }
}

extension Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, as the watchdog and restic write their
    /// times; the fraction is cut to milliseconds. nil for anything else.
    public init?(iso8601 text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let date = CivilDate(iso: text.prefix(10)) else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for byte in bytes[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19), hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            let digits = bytes[(index + 1)...].prefix { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }.count
            guard digits > 0 else { return nil }
            for position in 0..<3 {
                millis = millis * 10 + (position < digits ? Int64(bytes[index + 1 + position] - UInt8(ascii: "0")) : 0)
            }
            index += 1 + digits
        }
        let offsetSeconds: Int64
        if index == bytes.count - 1, bytes[index] == UInt8(ascii: "Z") {
            offsetSeconds = 0
        } else if index == bytes.count - 6, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), bytes[index + 3] == UInt8(ascii: ":"),
                  let hours = number(index + 1..<index + 3), let minutes = number(index + 4..<index + 6), hours < 24, minutes < 60 {
            offsetSeconds = (bytes[index] == UInt8(ascii: "+") ? 1 : -1) * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        self.init(milliseconds: date.startMilliseconds + ((hour * 60 + minute) * 60 + second - offsetSeconds) * 1000 + millis)
    }
}

/// A Binance kline interval. Raw values are Binance's own strings and are case-sensitive:
/// `1m` is a minute, `1M` a month.
public enum Interval: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case oneSecond = "1s"
    case oneMinute = "1m"
    case threeMinutes = "3m"
    case fiveMinutes = "5m"
    case fifteenMinutes = "15m"
    case thirtyMinutes = "30m"
    case oneHour = "1h"
    case twoHours = "2h"
    case fourHours = "4h"
    case sixHours = "6h"
    case eightHours = "8h"
    case twelveHours = "12h"
    case oneDay = "1d"
    case threeDays = "3d"
    case oneWeek = "1w"
    case oneMonth = "1M"

    public init(parsing text: some StringProtocol) throws(GordonError) {
        guard let interval = Interval(rawValue: String(text)) else {
            throw GordonError(.invalidInterval, "not a Binance kline interval (1s 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M)",
                              context: ["value": String(text.prefix(16))])
        }
        self = interval
    }

    public var description: String { rawValue }

    /// The fixed length, or nil for `1M`, whose months differ in length.
    public var milliseconds: Int64? {
        let second: Int64 = 1000, minute = 60 * second, hour = 60 * minute, day = 24 * hour
        switch self {
        case .oneSecond: return second
        case .oneMinute: return minute
        case .threeMinutes: return 3 * minute
        case .fiveMinutes: return 5 * minute
        case .fifteenMinutes: return 15 * minute
        case .thirtyMinutes: return 30 * minute
        case .oneHour: return hour
        case .twoHours: return 2 * hour
        case .fourHours: return 4 * hour
        case .sixHours: return 6 * hour
        case .eightHours: return 8 * hour
        case .twelveHours: return 12 * hour
        case .oneDay: return day
        case .threeDays: return 3 * day
        case .oneWeek: return 7 * day
        case .oneMonth: return nil
        }
    }

    /// A length for sizing buffers and windows only (`1M` counts as 30 days); use
    /// `nextOpenTime(after:)` for real month boundaries.
    public var nominalMilliseconds: Int64 { milliseconds ?? 30 * CivilDate.millisecondsPerDay }

    /// The open time of the kline that contains `ms`.
    ///
    /// Fixed intervals up to `3d` are aligned to the Unix epoch (as Binance aligns them,
    /// so 3-day klines open every third day counted from 1970-01-01); `1w` opens on
    /// Monday 00:00 UTC; `1M` on the first day of the UTC calendar month.
    public func openTime(containing ms: Int64) -> Int64 {
        switch self {
        case .oneMonth:
            let date = CivilDate(daysSinceEpoch: CivilDate.floorDivide(ms, CivilDate.millisecondsPerDay))
            return CivilDate(year: date.year, month: date.month, day: 1).daysSinceEpoch * CivilDate.millisecondsPerDay
        case .oneWeek:
            let week = 7 * CivilDate.millisecondsPerDay
            let offset = CivilDate.firstMondayAfterEpoch * CivilDate.millisecondsPerDay
            return ms - CivilDate.floorModulo(ms - offset, week)
        default:
            // Every case but 1M has a fixed length.
            let length = milliseconds!
            return ms - CivilDate.floorModulo(ms, length)
        }
    }

    /// The open time of the kline after the one containing `openTime`. Any instant inside a
    /// kline gives the same answer, so a misaligned input cannot skip or repeat a kline.
    public func nextOpenTime(after openTime: Int64) -> Int64 {
        let start = self.openTime(containing: openTime)
        guard self == .oneMonth else { return start + milliseconds! }
        let date = CivilDate(daysSinceEpoch: start / CivilDate.millisecondsPerDay)
        let next = date.month == 12
            ? CivilDate(year: date.year + 1, month: 1, day: 1)
            : CivilDate(year: date.year, month: date.month + 1, day: 1)
        return next.daysSinceEpoch * CivilDate.millisecondsPerDay
    }

    /// Binance's close time for the kline opening at `openTime`: one millisecond before the
    /// next one opens.
    public func closeTime(forOpenTime openTime: Int64) -> Int64 {
        nextOpenTime(after: openTime) - 1
    }

    public func openTime(containing time: Timestamp) -> Timestamp {
        Timestamp(milliseconds: openTime(containing: time.milliseconds))
    }

    public func nextOpenTime(after openTime: Timestamp) -> Timestamp {
        Timestamp(milliseconds: nextOpenTime(after: openTime.milliseconds))
    }
}

/// A proleptic Gregorian date in UTC, converted to and from days since 1970-01-01 with
/// Howard Hinnant's `days_from_civil` / `civil_from_days`: exact for every Int64 day count
/// Gordon meets, and free of Foundation's Calendar (absent on musl without ICU).
public struct CivilDate: Sendable, Hashable, CustomStringConvertible {
    public static let millisecondsPerDay: Int64 = 86_400_000
    /// 1970-01-01 was a Thursday; 1970-01-05 the first Monday.
    static let firstMondayAfterEpoch: Int64 = 4

    public var year: Int64
    public var month: Int64
    public var day: Int64

    public init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Strictly `YYYY-MM-DD` naming a real day (FRED's dates, command lines); nil otherwise.
    public init?(iso text: some StringProtocol) {
        let bytes = Array(text.utf8)
        let digitAt: (Int) -> Int64? = { index in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) ? Int64(bytes[index] - UInt8(ascii: "0")) : nil
        }
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        var fields: [Int64] = []
        for range in [0..<4, 5..<7, 8..<10] {
            var value: Int64 = 0
            for index in range {
                guard let digit = digitAt(index) else { return nil }
                value = value * 10 + digit
            }
            fields.append(value)
        }
        self.init(year: fields[0], month: fields[1], day: fields[2])
        // A day past the month's end (2024-02-30) comes back as another date: refused.
        guard (1...12).contains(month), (1...31).contains(day), CivilDate(daysSinceEpoch: daysSinceEpoch) == self else { return nil }
    }

    public var description: String {
        func padded(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(padded(year, 4))-\(padded(month, 2))-\(padded(day, 2))"
    }

    /// Midnight UTC at the start of the day.
    public var startMilliseconds: Int64 { daysSinceEpoch * Self.millisecondsPerDay }

    public init(daysSinceEpoch days: Int64) {
        let shifted = days + 719_468  // days from 0000-03-01, the start of a 400-year era
        let era = CivilDate.floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    public var daysSinceEpoch: Int64 {
        let marchYear = month <= 2 ? year - 1 : year
        let era = CivilDate.floorDivide(marchYear, 400)
        let yearOfEra = marchYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    static func floorModulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        value - floorDivide(value, divisor) * divisor
    }
}
