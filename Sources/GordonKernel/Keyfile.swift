#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One service's keyfile (`/etc/gordon/keys/<service>.key`, DESIGN §6).
///
/// The format is `name = value` per line; `#` starts a comment line, blank lines are ignored.
/// Known names: `postgres_password`, `nats_password`, and for gordon-executor alone
/// `binance_api_key` and `binance_api_secret`. Values are kept as `Secret`s.
public struct Keyfile: Sendable {
    public static let postgresPassword = "postgres_password"
    public static let natsPassword = "nats_password"
    public static let binanceAPIKey = "binance_api_key"
    public static let binanceAPISecret = "binance_api_secret"

    public let path: String
    private let entries: [String: Secret]

    public var names: [String] { entries.keys.sorted() }

    /// Every value, for the log redactor: what a process holds, it must never print.
    public var values: [Secret] { names.map { entries[$0]! } }

    /// Parses keyfile text. Errors name the line, never its value.
    public init(parsing text: String, path: String = "<memory>") throws(GordonError) {
        var entries: [String: Secret] = [:]
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let equals = line.firstIndex(of: "=") else {
                throw GordonError(.keyfileMalformed, "keyfile line is not 'name = value'", context: ["path": path, "line": "\(index + 1)"])
            }
            let name = String(line[..<equals].trimmingWhitespace())
            let value = String(line[line.index(after: equals)...].trimmingWhitespace())
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw GordonError(.keyfileMalformed, "keyfile entry name must be letters, digits and _", context: ["path": path, "line": "\(index + 1)"])
            }
            guard !value.isEmpty else {
                throw GordonError(.keyfileMalformed, "keyfile entry has an empty value", context: ["path": path, "line": "\(index + 1)", "name": name])
            }
            guard entries[name] == nil else {
                throw GordonError(.keyfileMalformed, "keyfile entry appears twice", context: ["path": path, "line": "\(index + 1)", "name": name])
            }
            entries[name] = Secret(value)
        }
        self.path = path
        self.entries = entries
    }

    /// Reads a keyfile from disk, refusing one that group or others can read or write:
    /// a service must not start with a key another Unix user could have read.
    public static func load(path: String) throws(GordonError) -> Keyfile {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw GordonError(.keyfileMissing, "keyfile not found or not accessible", context: ["path": path])
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw GordonError(.keyfileMalformed, "keyfile is not a regular file", context: ["path": path])
        }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw GordonError(
                .keyfileTooOpen, "keyfile is accessible by group or others; chmod 0400 it",
                context: ["path": path, "mode": String(mode, radix: 8)])
        }
        return try Keyfile(parsing: try readSmallFile(path), path: path)
    }

    public func secret(_ name: String) throws(GordonError) -> Secret {
        guard let secret = entries[name] else {
            throw GordonError(.keyfileEntryMissing, "keyfile has no entry '\(name)'", context: ["path": path])
        }
        return secret
    }

    private static func readSmallFile(_ path: String) throws(GordonError) -> String {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw GordonError(.keyfileMissing, "keyfile cannot be opened", context: ["path": path])
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                throw GordonError(.keyfileMissing, "keyfile cannot be read", context: ["path": path])
            }
            if count == 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
            // A keyfile holds a handful of short lines; anything this large is not one.
            if bytes.count > 64 * 1024 {
                throw GordonError(.keyfileMalformed, "keyfile is larger than 64 KiB", context: ["path": path])
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw GordonError(.keyfileMalformed, "keyfile is not UTF-8", context: ["path": path])
        }
        return text
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isWhitespace { start = index(after: start) }
        while end > start, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[start..<end]
    }
}
