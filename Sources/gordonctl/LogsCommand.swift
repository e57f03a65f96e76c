#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import ArgumentParser
import FoundationEssentials
import GordonKernel
import GordonProcess

/// `gordonctl logs [SERVICE]`: the services' JSON log lines, one readable line each.
///
/// On the device every service is a child of gordon-watchdog and writes to its journal, so
/// the lines come from `journalctl -u gordon-watchdog.service` and are told apart by their
/// `service` field. `--file` reads a log file instead (the local stack's).
struct LogsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "A service's log (from the journal, or --file), pretty-printed; -f to follow.")

    @Argument(help: "data, risk, manager, executor, bot-ID, watchdog… (the gordon- prefix may be left off); every service when absent")
    var service: String?

    @Option(name: [.short, .long], help: "How many of the last matching lines to show first (1-100000)")
    var lines = 50

    @Flag(name: [.short, .long], help: "Keep printing lines as they come")
    var follow = false

    @Option(help: "The lowest level shown: trace, debug, info, notice, warning, error, critical")
    var level: String?

    @Option(help: "Read this log file (JSON lines) instead of the journal")
    var file: String?

    @Option(help: "The journal unit the services write to")
    var unit = "gordon-watchdog.service"

    @Flag(help: "Print the matching lines as the services wrote them (JSON)")
    var json = false

    /// How many journal entries are read to find the last `--lines` of one service.
    static let journalWindow = 20_000

    func validate() throws {
        guard (1...100_000).contains(lines) else { throw ValidationError("--lines must be 1-100000, not \(lines)") }
        if let service, LogFilter.serviceName(service) == nil {
            throw ValidationError("SERVICE must be a service name such as data, risk or gordon-executor (a-z, 0-9, -), not '\(service)'")
        }
        if let level, LogFilter.rank(level) == nil {
            throw ValidationError("--level must be one of \(LogFilter.levels.joined(separator: ", ")), not '\(level)'")
        }
    }

    func run() throws {
        let filter = LogFilter(service: service.flatMap(LogFilter.serviceName), lowest: level.flatMap(LogFilter.rank) ?? 0)
        var source: LineSource
        if let file {
            let descriptor = open(file, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw ValidationError("cannot read \(file): \(String(cString: strerror(errno)))") }
            source = LineSource(descriptor: descriptor, follow: follow)
        } else {
            source = try LineSource.journal(unit: unit, window: Self.journalWindow, follow: follow)
        }
        defer { source.finish() }
        // The last `lines` matches of what is there now; then, following, each as it comes.
        var recent: [String] = []
        recent.reserveCapacity(lines)
        var caughtUp = false
        while let line = source.nextLine(onIdle: { if !caughtUp { caughtUp = true; flush(&recent) } }) {
            guard let shown = filter.show(line, raw: json) else { continue }
            if caughtUp {
                StandardStream.write(shown + "\n", to: StandardStream.output)
            } else {
                recent.append(shown)
                if recent.count > lines { recent.removeFirst(recent.count - lines) }
            }
        }
        if !caughtUp { flush(&recent) }
        source.finish()
        if let status = source.exitStatus, !status.succeeded {
            standardError("gordonctl: journalctl \(status); is the journal readable by you (group systemd-journal or adm)?")
            throw ExitCode(OperatorExit.unreachable)
        }
    }

    private func flush(_ recent: inout [String]) {
        if !recent.isEmpty { StandardStream.write(recent.joined(separator: "\n") + "\n", to: StandardStream.output) }
        recent.removeAll()
    }
}

/// Which log lines to show, and how: a plain value.
struct LogFilter {
    static let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// `gordon-<name>`, or nil for a name that is not one.
    static func serviceName(_ text: String) -> String? {
        guard !text.isEmpty, text.utf8.count <= 64,
              text.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        return text.hasPrefix("gordon-") ? text : "gordon-" + text
    }

    static func rank(_ level: String) -> Int? { levels.firstIndex(of: level.lowercased()) }

    let service: String?
    let lowest: Int

    struct Entry: Decodable {
        let time: String?
        let level: String?
        let service: String?
        let message: String?
        let traceId: String?
        let metadata: [String: JSONValue]?

        enum CodingKeys: String, CodingKey {
            case time, level, service, message, metadata
            case traceId = "trace_id"
        }
    }

    /// The line as shown, or nil when filtered out. A line that is not a service's JSON (a
    /// start-up announcement, a crash message) is shown as it is when no service is asked
    /// for: it cannot be told whose it is.
    func show(_ line: String, raw: Bool) -> String? {
        guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)), entry.message != nil else {
            return service == nil && lowest == 0 && !line.isEmpty ? line : nil
        }
        if let service, entry.service != service { return nil }
        if lowest > 0, (entry.level.flatMap(Self.rank) ?? Self.levels.count) < lowest { return nil }
        if raw { return line }
        var text = (entry.time ?? "-") + " " + (entry.level ?? "?").uppercased().padding(8) + " "
        if service == nil { text += (entry.service ?? "?").padding(16) + " " }
        text += entry.message ?? ""
        for (key, value) in (entry.metadata ?? [:]).sorted(by: { $0.key < $1.key }) {
            let shown: String = if case .string(let string) = value { string } else { value.description }
            text += " \(key)=" + (shown.contains(" ") || shown.isEmpty ? value.description : shown)
        }
        if let traceId = entry.traceId { text += " trace=\(traceId)" }
        return text
    }
}

/// Lines from a descriptor: a file (at its end, waiting for more when following) or
/// journalctl's output (ending when journalctl does).
struct LineSource {
    let descriptor: Int32
    let follow: Bool
    private(set) var child: pid_t?
    private(set) var exitStatus: ExitStatus?
    private var buffer: [UInt8] = []
    private var ended = false

    init(descriptor: Int32, follow: Bool, child: pid_t? = nil) {
        self.descriptor = descriptor
        self.follow = follow
        self.child = child
    }

    /// `journalctl` on the services' unit: the messages of its last `window` entries, then,
    /// with `follow`, each new one.
    static func journal(unit: String, window: Int, follow: Bool) throws -> LineSource {
        let candidates: [String] = ["/usr/bin/journalctl", "/bin/journalctl"]
        guard let executable = candidates.first(where: { path in access(path, X_OK) == 0 }) else {
            throw ValidationError("journalctl is not on this machine: read a log file with --file")
        }
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { throw ValidationError("cannot make a pipe: \(String(cString: strerror(errno)))") }
        let command = ProcessCommand(name: "journalctl", executable: executable,
                                     arguments: ["-u", unit, "-o", "cat", "--no-pager", "-n", "\(window)"] + (follow ? ["-f"] : []))
        defer { close(ends[1]) }
        do {
            let pid = try ProcessLauncher.spawn(command, stdout: ends[1])
            return LineSource(descriptor: ends[0], follow: follow, child: pid)
        } catch {
            close(ends[0])
            throw ValidationError("\(error)")
        }
    }

    /// The next line, or nil at the end. `onIdle` runs, when following, each time everything
    /// written so far has been read.
    mutating func nextLine(onIdle: () -> Void) -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if ended {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return String(decoding: buffer, as: UTF8.self)
            }
            // journalctl -f prints the backlog, then waits: a pause means it is all out.
            if follow, child != nil, !hasInput(withinMilliseconds: 200) { onIdle() }
            var chunk = [UInt8](repeating: 0, count: 64 << 10)
            let count = read(descriptor, &chunk, chunk.count)
            if count > 0 {
                buffer.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                guard follow, child == nil else {
                    ended = true
                    continue
                }
                onIdle()
                usleep(200_000)  // a file being followed: look again for what was appended
            } else if errno != EINTR {
                ended = true
            }
        }
    }

    private func hasInput(withinMilliseconds milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, milliseconds) > 0
    }

    /// Closes the descriptor and reaps journalctl (ending it if it still runs); idempotent.
    mutating func finish() {
        if let child {
            kill(child, SIGTERM)
            let status = ProcessLauncher.waitForExit(child)
            exitStatus = status == .signalled(SIGTERM) ? nil : status  // ended by us, or it had ended
            self.child = nil
        }
        if !closed {
            close(descriptor)
            closed = true
        }
    }

    private var closed = false
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
