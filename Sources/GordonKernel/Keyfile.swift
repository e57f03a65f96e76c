#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One service's keyfile (`/etc/gordon/keys/<service>.key`, DESIGN §6).
///
/// The format is `name = value` per line; `#` starts a comment line, blank lines are ignored.
/// Known names: `postgres_password`, `nats_password`, and for gordon-executor alone
/// `binance_api_key` and `binance_api_secret`, for gordon-data alone `fred_api_key`, for
/// gordon-manager alone `console_token_sha256`. Values are kept as `Secret`s.
public struct Keyfile: Sendable {
    public static let postgresPassword = "postgres_password"
    public static let natsPassword = "nats_password"
    public static let binanceAPIKey = "binance_api_key"
    public static let binanceAPISecret = "binance_api_secret"
    public static let fredAPIKey = "fred_api_key"
    /// gordon-manager's: the SHA-256 (hex) of the console's credential, so the manager can
    /// check the console's token without holding it.
    public static let consoleTokenSHA256 = "console_token_sha256"

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

    /// Reads a keyfile from disk, refusing one that group or others can read or write, or
    /// that belongs to another user: a service must not start with a key another Unix user
    /// could have read or replaced.
    ///
    /// The file is opened first (never through a symbolic link, and without blocking on a
    /// FIFO) and the checks are made on the open descriptor, so the file checked is the file
    /// read: a swap between a check by path and the read is not possible.
    public static func load(path: String) throws(GordonError) -> Keyfile {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            if errno == ELOOP {
                throw GordonError(.keyfileMalformed, "keyfile is a symbolic link; give the file itself", context: ["path": path])
            }
            throw GordonError(.keyfileMissing, "keyfile not found or not accessible", context: ["path": path])
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            throw GordonError(.keyfileMissing, "keyfile cannot be examined", context: ["path": path])
        }
        try KeyfilePermissions(mode: info.st_mode, owner: info.st_uid).check(readBy: geteuid(), path: path)
        return try Keyfile(parsing: try readSmallFile(descriptor, path: path), path: path)
    }

    public func secret(_ name: String) throws(GordonError) -> Secret {
        guard let secret = entries[name] else {
            throw GordonError(.keyfileEntryMissing, "keyfile has no entry '\(name)'", context: ["path": path])
        }
        return secret
    }

    private static func readSmallFile(_ descriptor: Int32, path: String) throws(GordonError) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
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

/// The ownership and mode rules of a keyfile, as a plain value (tested without files).
public struct KeyfilePermissions: Sendable, Equatable {
    /// `st_mode` and `st_uid` (both 32-bit on glibc and musl).
    public let mode: UInt32
    public let owner: UInt32

    public init(mode: UInt32, owner: UInt32) {
        self.mode = mode
        self.owner = owner
    }

    /// A regular file, no group or other bits, owned by the reader. Root may read any
    /// service's slot (the device's migration step sets every role's password from them);
    /// for anyone else, a file another user owns is refused even if an ACL or a capability
    /// lets it be read, since its owner can change it.
    public func check(readBy reader: UInt32, path: String) throws(GordonError) {
        guard (mode & S_IFMT) == S_IFREG else {
            throw GordonError(.keyfileMalformed, "keyfile is not a regular file", context: ["path": path])
        }
        let permissions = mode & 0o777
        guard permissions & 0o077 == 0 else {
            throw GordonError(
                .keyfileTooOpen, "keyfile is accessible by group or others; chmod 0400 it",
                context: ["path": path, "mode": String(permissions, radix: 8)])
        }
        guard owner == reader || reader == 0 else {
            throw GordonError(
                .keyfileWrongOwner, "keyfile belongs to another user; chown it to the service's user",
                context: ["path": path, "owner": String(owner), "reader": String(reader)])
        }
    }
}

extension StringProtocol {
    /// Without leading and trailing whitespace.
    public func trimmingWhitespace() -> SubSequence {
        var start = startIndex
        var end = endIndex
        while start < end, self[start].isWhitespace { start = index(after: start) }
        while end > start, self[index(before: end)].isWhitespace { end = index(before: end) }
        return self[start..<end]
    }
}
