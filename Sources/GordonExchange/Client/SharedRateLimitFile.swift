#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
public import GordonKernel

/// The host's shared record of Binance's per-IP limits (`SharedRateLimits`), in a small file
/// under the runtime directory that every Gordon process talking to Binance opens.
///
/// A file rather than an event on the bus: it works while NATS is down or restarting (when a
/// 429 matters as much as ever), costs a few system calls per request, and outlives a
/// crash, so a restarted process still honours a ban it was told about. Every access holds
/// an `flock` on the file, so read-merge-write by two processes never loses either's facts.
/// The services run as different users: the file is created group read-write (0660) and
/// the directory's group is shared by them (the image sets this up).
public struct SharedRateLimitFile: Sendable {
    public let path: String
    /// Larger files are not ours: reading stops here.
    static let maximumBytes = 64 * 1024

    public init(path: String) {
        self.path = path
    }

    /// What the file holds now (empty if it does not exist yet).
    public func read() throws(GordonError) -> SharedRateLimits {
        try withLockedFile(exclusive: false) { descriptor throws(GordonError) in
            SharedRateLimits(parsing: try Self.readAll(descriptor, path: path))
        }
    }

    /// Merges `local` into the file and returns the merged record, which holds what the other
    /// processes recorded too.
    @discardableResult
    public func exchange(_ local: SharedRateLimits, now: Int64) throws(GordonError) -> SharedRateLimits {
        try withLockedFile(exclusive: true) { descriptor throws(GordonError) in
            let stored = SharedRateLimits(parsing: try Self.readAll(descriptor, path: path))
            let merged = stored.merged(with: local, now: now)
            if merged != stored {
                let bytes = Array(merged.text.utf8)
                guard ftruncate(descriptor, 0) == 0 else { throw Self.failure("truncate", path: path) }
                var written = 0
                while written < bytes.count {
                    let result = bytes.withUnsafeBytes { raw in
                        pwrite(descriptor, raw.baseAddress! + written, raw.count - written, off_t(written))
                    }
                    if result < 0 {
                        if errno == EINTR { continue }
                        throw Self.failure("write", path: path)
                    }
                    written += result
                }
            }
            return merged
        }
    }

    private func withLockedFile<T>(exclusive: Bool, _ body: (Int32) throws(GordonError) -> T) throws(GordonError) -> T {
        // O_NOFOLLOW: a symlink planted in the runtime directory must not redirect the write.
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o660)
        guard descriptor >= 0 else { throw Self.failure("open", path: path) }
        defer { close(descriptor) }
        while flock(descriptor, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw Self.failure("lock", path: path) }
        }
        return try body(descriptor)
    }

    private static func readAll(_ descriptor: Int32, path: String) throws(GordonError) -> String {
        var bytes = [UInt8](repeating: 0, count: maximumBytes)
        var total = 0
        while total < bytes.count {
            let result = bytes.withUnsafeMutableBytes { raw in
                pread(descriptor, raw.baseAddress! + total, raw.count - total, off_t(total))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw failure("read", path: path)
            }
            if result == 0 { break }
            total += result
        }
        return String(decoding: bytes[..<total], as: UTF8.self)
    }

    private static func failure(_ operation: String, path: String) -> GordonError {
        let code = errno
        return GordonError(.exchangeConfigInvalid, "cannot \(operation) the shared rate-limit file: \(String(cString: strerror(code)))",
                           context: ["path": path, "errno": "\(code)"])
    }
}
