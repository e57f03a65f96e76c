public import ArgumentParser
import GordonDomain

/// A time given on a command line, as milliseconds since the epoch (UTC).
public enum CommandLineTime {
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` (UTC) or epoch milliseconds; `what` names the option
    /// in the error.
    public static func milliseconds(_ text: String, what: String) throws -> Int64 {
        if let milliseconds = Int64(text) { return milliseconds }
        let bad = ValidationError("\(what) must be YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or epoch milliseconds (got '\(text)')")
        let pieces = text.split(separator: "T", maxSplits: 1)
        guard let date = CivilDate(iso: pieces[0]) else { throw bad }
        var minutes: Int64 = 0
        if pieces.count == 2 {
            let clock = pieces[1].split(separator: ":")
            guard clock.count == 2, let hour = Int64(clock[0]), let minute = Int64(clock[1]), (0..<24).contains(hour),
                  (0..<60).contains(minute) else { throw bad }
            minutes = hour * 60 + minute
        }
        let days = date.daysSinceEpoch
        return (days * 1440 + minutes) * 60_000
    }
}
