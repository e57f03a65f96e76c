import GordonKernel
public import GordonProcess

/// What an operator asks the watchdog for, through its request file (gordon-manager writes
/// it, the watchdog takes it): the first line says who asks, the second what for. A file of
/// one line asks for a backup, as the first version of the file did.
public struct WatchdogRequest: Equatable, Sendable {
    public enum Action: Equatable, Sendable {
        case backup
        case listSnapshots
        /// Stop every service, replace the trading schema with the snapshot's, migrate, start.
        case restore(snapshot: String)
    }

    public var requestedBy: String
    public var action: Action

    public init(requestedBy: String, action: Action) {
        self.requestedBy = requestedBy
        self.action = action
    }

    /// The file's text.
    public var text: String {
        switch action {
        case .backup: "\(requestedBy)\nbackup\n"
        case .listSnapshots: "\(requestedBy)\nlist\n"
        case .restore(let snapshot): "\(requestedBy)\nrestore \(snapshot)\n"
        }
    }

    public static func parse(_ text: String) throws(LaunchError) -> WatchdogRequest {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.trimmingWhitespace()) }
        let requester = String((lines.first ?? "").prefix(128))
        let words = (lines.count > 1 ? lines[1] : "").split(separator: " ").map(String.init)
        let action: Action
        switch words.first {
        case nil, "backup": action = .backup
        case "list": action = .listSnapshots
        case "restore":
            guard words.count == 2, isSnapshot(words[1]) else {
                throw LaunchError("a restore names one snapshot: latest, or its id in hex (8 to 64 digits)")
            }
            action = .restore(snapshot: words[1])
        case let other?:
            throw LaunchError("unknown request '\(other.prefix(32))': backup, list or restore SNAPSHOT")
        }
        return WatchdogRequest(requestedBy: requester.isEmpty ? "unknown" : requester, action: action)
    }

    /// `latest`, or a snapshot id or its prefix: 8 to 64 lowercase hex digits (what restic prints).
    public static func isSnapshot(_ text: String) -> Bool {
        text == "latest"
            || ((8...64).contains(text.utf8.count) && text.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
    }
}
