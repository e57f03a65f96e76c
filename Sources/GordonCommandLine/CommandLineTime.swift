public import ArgumentParser

/// A time given on a command line, as milliseconds since the epoch (UTC).
public enum CommandLineTime {
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (UTC) or epoch milliseconds; `what` names the option
    /// in the error.
    public static func milliseconds(_ text: String, what: String) throws -> Int64 {
        if let milliseconds = Int64(text) { return milliseconds }
        let bad = ValidationError("\(what) must be YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch milliseconds (got '\(text)')")
        let pieces = text.split(separator: "T", maxSplits: 1)
        let date = pieces[0].split(separator: "-")
        guard date.count == 3, let year = Int64(date[0]), let month = Int64(date[1]), let day = Int64(date[2]),
              (1...12).contains(month), (1...31).contains(day) else { throw bad }
        var minutes: Int64 = 0
        if pieces.count == 2 {
            let clock = pieces[1].split(separator: ":")
            guard clock.count == 2, let hour = Int64(clock[0]), let minute = Int64(clock[1]), (0..<24).contains(hour),
                  (0..<60).contains(minute) else { throw bad }
            minutes = hour * 60 + minute
        }
        // Days from the civil date (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        return (days * 1440 + minutes) * 60_000
    }
}
