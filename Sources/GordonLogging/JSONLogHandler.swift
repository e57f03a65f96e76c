public import GordonDomain
public import GordonKernel
public import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One JSON object per line on standard error (the journal on the device): `time`, `level`,
/// `service`, `trace_id` when the logger carries one, `message`, `label` and the rest of the
/// metadata under `metadata`. Every line passes through the process's `SecretRedactor`.
public struct JSONLogHandler: LogHandler {
    public static let traceIdKey = "trace_id"

    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let service: String
    private let redactor: SecretRedactor
    private let sink: LineSink

    public init(label: String, service: String, level: Logger.Level = .info, redactor: SecretRedactor,
                sink: LineSink = .standardError) {
        self.label = label
        self.service = service
        self.logLevel = level
        self.redactor = redactor
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        // Before rendering, where a secret is still as it was given (JSON escaping would hide
        // one with a quote or a backslash), and once more on the whole line.
        sink.write(redactor.redact(Self.render(
            time: Timestamp(milliseconds: WallClock.milliseconds()), level: event.level, service: service,
            label: label, message: redactor.redact("\(event.message)"), metadata: redactor.redact(merged))))
    }

    /// The line without its newline; a plain function so tests check the format byte for byte.
    public static func render(time: Timestamp, level: Logger.Level, service: String, label: String,
                              message: String, metadata: Logger.Metadata) -> String {
        var line = "{\"time\":\"\(time)\",\"level\":\"\(level.rawValue)\",\"service\":"
        JSONStringLiteral.append(service, to: &line)
        var rest = metadata
        if let traceId = rest.removeValue(forKey: traceIdKey) {
            line += ",\"trace_id\":"
            JSONStringLiteral.append("\(traceId)", to: &line)
        }
        line += ",\"message\":"
        JSONStringLiteral.append(message, to: &line)
        line += ",\"label\":"
        JSONStringLiteral.append(label, to: &line)
        if !rest.isEmpty {
            line += ",\"metadata\":"
            appendObject(rest, to: &line)
        }
        line += "}"
        return line
    }

    private static func appendObject(_ metadata: Logger.Metadata, to line: inout String) {
        line += "{"
        for (index, key) in metadata.keys.sorted().enumerated() {
            if index > 0 { line += "," }
            JSONStringLiteral.append(key, to: &line)
            line += ":"
            appendValue(metadata[key]!, to: &line)
        }
        line += "}"
    }

    private static func appendValue(_ value: Logger.MetadataValue, to line: inout String) {
        switch value {
        case .string(let text): JSONStringLiteral.append(text, to: &line)
        case .stringConvertible(let convertible): JSONStringLiteral.append(convertible.description, to: &line)
        case .dictionary(let dictionary): appendObject(dictionary, to: &line)
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        }
    }
}

/// Where log lines go: whole lines, one at a time, never interleaved with another thread's.
public final class LineSink: Sendable {
    private let descriptor: Int32
    private let lock = Mutex(())

    public init(descriptor: Int32) { self.descriptor = descriptor }

    public static let standardError = LineSink(descriptor: StandardStream.error)

    public func write(_ line: String) {
        lock.withLock { _ in StandardStream.write(line + "\n", to: descriptor) }
    }
}

/// Milliseconds since the epoch from the system clock, for log timestamps.
enum WallClock {
    static func milliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
