public import Foundation
public import GordonProcess
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A child process started by GordonProcess's launcher and reaped with waitpid by this object alone.
///
/// Not Foundation's Process: with several children signalled at once its SIGCHLD handling
/// was seen to miss exits, leaving zombies nobody reaps and `waitUntilExit` blocked for
/// good (and with it a thread of the cooperative pool, when called from a deinit).
public final class ChildProcess: @unchecked Sendable {
    public let processIdentifier: pid_t
    private let lock = NSLock()
    private var ended: ExitStatus?

    /// Starts `path` with `arguments` (argv[0] is the path), the given environment (the
    /// current one when nil), stdin from /dev/null, stdout and stderr appended to the given
    /// files (/dev/null when nil). GordonProcess's launcher does the work: the child gets no
    /// descriptor of this process but those three (an inherited one, such as a script
    /// another test is writing, would make exec of that script fail with ETXTBSY), and a
    /// process group of its own.
    public init(_ path: String, _ arguments: [String], environment: [String: String]? = nil,
                stdout: String? = nil, stderr: String? = nil) throws {
        let out = open(stdout ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        let err = open(stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        defer {
            if out >= 0 { close(out) }
            if err >= 0 { close(err) }
        }
        guard out >= 0, err >= 0 else {
            throw TestNATSServerError(message: "cannot open the output files of \(path): \(String(cString: strerror(errno)))")
        }
        let command = ProcessCommand(
            name: (path as NSString).lastPathComponent, executable: path, arguments: arguments,
            environment: environment ?? ProcessInfo.processInfo.environment)
        do {
            processIdentifier = try ProcessLauncher.spawn(command, stdout: out, stderr: err)
        } catch {
            throw TestNATSServerError(message: error.message)
        }
    }

    /// Nil while the child runs.
    public var termination: ExitStatus? {
        lock.withLock {
            if ended == nil { reapIfEnded() }
            return ended
        }
    }

    public var isRunning: Bool { termination == nil }

    /// The exit code, or the signal that ended it (as Foundation's Process reports it);
    /// only meaningful once the child has ended.
    public var terminationStatus: Int32 {
        switch termination {
        case .exited(let code): code
        case .signalled(let number): number
        case .notStarted, nil: -1
        }
    }

    public func signal(_ number: Int32) {
        if isRunning { _ = kill(processIdentifier, number) }
    }

    /// Blocks until the child has ended: call it from `onOwnThread`, or use `exited()`.
    public func waitUntilExit() {
        while true {
            var status: Int32 = 0
            let result = waitpid(processIdentifier, &status, 0)
            if result == -1 && errno == EINTR { continue }
            lock.withLock {
                if result == processIdentifier { record(status) }
                // Otherwise (ECHILD) a `termination` check on another thread reaped it and
                // recorded the status under the lock before releasing it.
            }
            return
        }
    }

    /// Waits for the child to end without holding a thread of the cooperative pool.
    public func exited() async {
        await onOwnThread { self.waitUntilExit() }
    }

    private func reapIfEnded() {
        var status: Int32 = 0
        if waitpid(processIdentifier, &status, WNOHANG) == processIdentifier { record(status) }
    }

    private func record(_ status: Int32) {
        ended = ProcessLauncher.exitStatus(fromWaitStatus: status)
    }

    deinit {
        // Reaped on a thread of its own: a deinit may run on the cooperative pool.
        guard termination == nil else { return }
        let pid = processIdentifier
        _ = kill(pid, SIGKILL)
        Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        }.start()
    }
}
